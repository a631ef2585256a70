// What the DIMSE service negotiates (PS3.4 Annexes A, B, C; PS3.5 Section 10): the abstract
// syntaxes it plays SCP for and the transfer syntaxes it accepts for each. Storage keeps the
// bytes as they were sent, so every transfer syntax the hub can store is accepted as proposed;
// queries and retrieves speak only the two uncompressed little-endian syntaxes.
import dimse from 'dcmjs-dimse';

export const VERIFICATION = '1.2.840.10008.1.1';

export const QR = {
  patientFind: '1.2.840.10008.5.1.4.1.2.1.1',
  patientMove: '1.2.840.10008.5.1.4.1.2.1.2',
  patientGet: '1.2.840.10008.5.1.4.1.2.1.3',
  studyFind: '1.2.840.10008.5.1.4.1.2.2.1',
  studyMove: '1.2.840.10008.5.1.4.1.2.2.2',
  studyGet: '1.2.840.10008.5.1.4.1.2.2.3',
} as const;

export const IMPLICIT_LE = '1.2.840.10008.1.2';
export const EXPLICIT_LE = '1.2.840.10008.1.2.1';

/** Q/R information models by SOP class: which root, which operation. */
export const QR_MODELS = new Map<string, { root: 'patient' | 'study'; op: 'find' | 'move' | 'get' }>([
  [QR.patientFind, { root: 'patient', op: 'find' }],
  [QR.patientMove, { root: 'patient', op: 'move' }],
  [QR.patientGet, { root: 'patient', op: 'get' }],
  [QR.studyFind, { root: 'study', op: 'find' }],
  [QR.studyMove, { root: 'study', op: 'move' }],
  [QR.studyGet, { root: 'study', op: 'get' }],
]);

// Storage SOP classes beyond those dcmjs-dimse lists (RT, waveforms, presentation states, key
// objects, segmentations, retired US/NM classes still sent by older modalities, ...).
const MORE_STORAGE = [
  '1.2.840.10008.5.1.4.1.1.481.2', // RT Dose
  '1.2.840.10008.5.1.4.1.1.481.3', // RT Structure Set
  '1.2.840.10008.5.1.4.1.1.481.4', // RT Beams Treatment Record
  '1.2.840.10008.5.1.4.1.1.481.5', // RT Plan
  '1.2.840.10008.5.1.4.1.1.481.6', // RT Brachy Treatment Record
  '1.2.840.10008.5.1.4.1.1.481.7', // RT Treatment Summary Record
  '1.2.840.10008.5.1.4.1.1.481.8', // RT Ion Plan
  '1.2.840.10008.5.1.4.1.1.481.9', // RT Ion Beams Treatment Record
  '1.2.840.10008.5.1.4.1.1.9.1.1', // 12-lead ECG Waveform
  '1.2.840.10008.5.1.4.1.1.9.1.2', // General ECG Waveform
  '1.2.840.10008.5.1.4.1.1.9.1.3', // Ambulatory ECG Waveform
  '1.2.840.10008.5.1.4.1.1.9.2.1', // Hemodynamic Waveform
  '1.2.840.10008.5.1.4.1.1.9.4.1', // Basic Voice Audio Waveform
  '1.2.840.10008.5.1.4.1.1.11.1', // Grayscale Softcopy Presentation State
  '1.2.840.10008.5.1.4.1.1.11.2', // Color Softcopy Presentation State
  '1.2.840.10008.5.1.4.1.1.88.34', // Comprehensive 3D SR
  '1.2.840.10008.5.1.4.1.1.88.40', // Procedure Log
  '1.2.840.10008.5.1.4.1.1.88.59', // Key Object Selection Document
  '1.2.840.10008.5.1.4.1.1.88.68', // Radiopharmaceutical Radiation Dose SR
  '1.2.840.10008.5.1.4.1.1.66', // Raw Data
  '1.2.840.10008.5.1.4.1.1.66.1', // Spatial Registration
  '1.2.840.10008.5.1.4.1.1.66.4', // Segmentation
  '1.2.840.10008.5.1.4.1.1.30', // Parametric Map
  '1.2.840.10008.5.1.4.1.1.4.2', // MR Spectroscopy
  '1.2.840.10008.5.1.4.1.1.6.2', // Enhanced US Volume
  '1.2.840.10008.5.1.4.1.1.6', // Ultrasound Image (retired)
  '1.2.840.10008.5.1.4.1.1.3', // Ultrasound Multi-frame Image (retired)
  '1.2.840.10008.5.1.4.1.1.5', // Nuclear Medicine Image (retired)
  '1.2.840.10008.5.1.4.1.1.104.3', // Encapsulated STL
];

export const STORAGE_SOP_CLASSES: ReadonlySet<string> = new Set([...Object.values(dimse.constants.StorageClass), ...MORE_STORAGE]);

/** Transfer syntaxes a C-STORE may use: native, deflated, and the encapsulated ones the hub keeps as sent. */
export const STORAGE_TRANSFER_SYNTAXES: ReadonlySet<string> = new Set([
  IMPLICIT_LE,
  EXPLICIT_LE,
  '1.2.840.10008.1.2.2', // explicit VR big endian (retired, still sent)
  '1.2.840.10008.1.2.1.99', // deflated explicit VR little endian
  '1.2.840.10008.1.2.4.50', // JPEG baseline (process 1)
  '1.2.840.10008.1.2.4.51', // JPEG extended (process 2 & 4)
  '1.2.840.10008.1.2.4.57', // JPEG lossless (process 14)
  '1.2.840.10008.1.2.4.70', // JPEG lossless, first-order prediction (process 14 SV1)
  '1.2.840.10008.1.2.4.80', // JPEG-LS lossless
  '1.2.840.10008.1.2.4.81', // JPEG-LS near-lossless
  '1.2.840.10008.1.2.4.90', // JPEG 2000 lossless
  '1.2.840.10008.1.2.4.91', // JPEG 2000
  '1.2.840.10008.1.2.4.201', // High-Throughput JPEG 2000 lossless
  '1.2.840.10008.1.2.4.202', // High-Throughput JPEG 2000 lossless (RPCL)
  '1.2.840.10008.1.2.4.203', // High-Throughput JPEG 2000
  '1.2.840.10008.1.2.5', // RLE lossless
]);

export const COMMAND_TRANSFER_SYNTAXES: ReadonlySet<string> = new Set([IMPLICIT_LE, EXPLICIT_LE]);

/** The transfer syntaxes we accept for an abstract syntax; undefined when we do not serve it. */
export function acceptableSyntaxes(abstractSyntax: string): ReadonlySet<string> | undefined {
  if (STORAGE_SOP_CLASSES.has(abstractSyntax)) return STORAGE_TRANSFER_SYNTAXES;
  if (abstractSyntax === VERIFICATION || QR_MODELS.has(abstractSyntax)) return COMMAND_TRANSFER_SYNTAXES;
  return undefined;
}

/** DIMSE status codes used here (PS3.7 Annex C, PS3.4 B.2.3 and C.4). */
export const STATUS = {
  success: 0x0000,
  pending: 0xff00,
  cancel: 0xfe00,
  refusedSopClassNotSupported: 0x0122,
  outOfResources: 0xa700,
  outOfResourcesSubOperations: 0xa702,
  moveDestinationUnknown: 0xa801,
  identifierDoesNotMatch: 0xa900,
  unableToProcess: 0xc000,
  subOperationsWithFailures: 0xb000,
} as const;
