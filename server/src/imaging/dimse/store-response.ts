// The C-STORE response, with its command set encoded here. dcmjs-dimse encodes each response's
// command set with dcmjs's general-purpose writer, and it formats a log line that describes the
// response (looking up the name of each UID) even when logging is off. For a C-STORE, sent once
// per stored instance, that was about an eighth of the hub's CPU time in the C-STORE phase of a
// profiled benchmark. A command set is always implicit VR little endian (PS3.7 6.3.1), and this
// one has at most eight elements (PS3.7 9.3.1.2).
import dimse from 'dcmjs-dimse';

type CStoreRequest = InstanceType<typeof dimse.requests.CStoreRequest>;

const IMPLICIT_VR_LITTLE_ENDIAN = '1.2.840.10008.1.2';
const C_STORE_RSP = 0x8001;
/** CommandDataSetType: no data set follows. */
const NO_DATA_SET = 0x0101;

/** A command set whose bytes are fixed in advance; its elements stay readable (getStatus, ...). */
class EncodedCommandSet extends dimse.Dataset {
  constructor(
    elements: Record<string, unknown>,
    private readonly encoded: Buffer,
  ) {
    super(elements, IMPLICIT_VR_LITTLE_ENDIAN);
  }

  override getDenaturalizedCommandDataset(): Buffer {
    return this.encoded;
  }
}

export class StoreResponse extends dimse.responses.CStoreResponse {
  /** The response to `request`: `status`, and on a failure the reason (up to 64 characters). */
  constructor(request: CStoreRequest, status: number, errorComment?: string) {
    super(status, errorComment ?? '');
    const fields = {
      sopClassUid: request.getAffectedSopClassUid(),
      sopInstanceUid: request.getAffectedSopInstanceUid(),
      messageId: request.getMessageId(),
      status,
      errorComment: errorComment || undefined,
    };
    const elements: Record<string, unknown> = {
      CommandField: C_STORE_RSP,
      CommandDataSetType: NO_DATA_SET,
      Status: status,
      ...(fields.errorComment ? { ErrorComment: fields.errorComment } : {}),
      AffectedSOPClassUID: fields.sopClassUid,
      MessageIDBeingRespondedTo: fields.messageId,
      AffectedSOPInstanceUID: fields.sopInstanceUid,
    };
    this.setCommandDataset(new EncodedCommandSet(elements, encodeStoreResponse(fields)));
  }

  override toString(): string {
    return `C-STORE RESPONSE [status: 0x${this.getStatus().toString(16).padStart(4, '0')}]`;
  }
}

/** The command set of a C-STORE-RSP, element by element in tag order, as PS3.7 9.3.1.2 lists them. */
export function encodeStoreResponse(fields: { sopClassUid: string; sopInstanceUid: string; messageId: number; status: number; errorComment?: string }): Buffer {
  const elements = [
    element(0x0002, padded(fields.sopClassUid, '\0')),
    element(0x0100, uint16(C_STORE_RSP)),
    element(0x0120, uint16(fields.messageId)),
    element(0x0800, uint16(NO_DATA_SET)),
    element(0x0900, uint16(fields.status)),
    ...(fields.errorComment ? [element(0x0902, padded(fields.errorComment, ' '))] : []),
    element(0x1000, padded(fields.sopInstanceUid, '\0')),
  ];
  const groupLength = Buffer.alloc(4);
  groupLength.writeUInt32LE(elements.reduce((sum, e) => sum + e.length, 0));
  return Buffer.concat([element(0x0000, groupLength), ...elements]);
}

/** Implicit VR little endian: group 0000, element, 32-bit length, value. */
function element(elementNumber: number, value: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt16LE(0x0000, 0);
  head.writeUInt16LE(elementNumber, 2);
  head.writeUInt32LE(value.length, 4);
  return Buffer.concat([head, value]);
}

function uint16(value: number): Buffer {
  const bytes = Buffer.alloc(2);
  bytes.writeUInt16LE(value);
  return bytes;
}

/** Values have even length (PS3.5 7.1.1): UIDs padded with NUL, text with a space. */
function padded(text: string, pad: string): Buffer {
  return Buffer.from(text.length % 2 ? text + pad : text, 'latin1');
}
