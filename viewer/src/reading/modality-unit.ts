// The unit of an image's modality values (stored value × Rescale Slope + Intercept), for the
// probe and the ROI statistics: Rescale Type (0028,1054) when the header names one, HU for CT
// (PS3.3 C.8.2.1.1.7 says CT's rescaled values are Hounsfield units), otherwise none — an MR or
// ultrasound value has no physical unit. Pure.
import { text, type DicomJson } from '../dicomweb/dicom-json.js';

export function modalityUnit(metadata: DicomJson | undefined): string {
  if (!metadata) return '';
  const rescaleType = text(metadata, '00281054')?.trim().toUpperCase();
  // "US" is "unspecified", not ultrasound.
  if (rescaleType && rescaleType !== 'US') return rescaleType;
  return text(metadata, '00080060')?.trim().toUpperCase() === 'CT' ? 'HU' : '';
}
