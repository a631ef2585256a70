// Watches the bytes an association peer sends, before dcmjs-dimse buffers them: dcmjs-dimse
// accumulates a PDU of whatever length its header claims and keeps any non-C-STORE data set in
// memory, so a broken or hostile peer could make it hold gigabytes. The guard follows the PDU and
// PDV framing (PS3.8 9.3) as a stream, without copying payloads, and reports the first violation:
// an unknown PDU type, a PDU longer than the limit, a malformed PDV item, a command or query data
// set over its budget. C-STORE data sets stream to the blob store and are bounded there.

export interface PduLimits {
  /** Largest PDU (any type) accepted, header excluded. */
  maxPduBytes: number;
  /** Largest command set. */
  maxCommandBytes: number;
  /** Largest data set on a presentation context that is not for storage (queries, retrieves). */
  maxQueryBytes: number;
}

export const DEFAULT_PDU_LIMITS: PduLimits = { maxPduBytes: 1024 * 1024, maxCommandBytes: 64 * 1024, maxQueryBytes: 1024 * 1024 };

const P_DATA_TF = 0x04;

export class PduGuard {
  /** Presentation context ids negotiated for storage: their data sets are not counted here. */
  readonly storageContexts = new Set<number>();
  /** Set once the association is accepted: P-DATA before that is a violation. */
  associated = false;
  private readonly pduHeader = Buffer.alloc(6);
  private pduHeaderFill = 0;
  private pduRemaining = 0;
  private inPData = false;
  private readonly pdvHeader = Buffer.alloc(6);
  private pdvHeaderFill = 0;
  private pdvRemaining = 0;
  private pdvCounted: 'command' | 'query' | 'none' = 'none';
  private commandBytes = 0;
  private queryBytes = 0;
  private failed = false;

  constructor(
    private readonly limits: PduLimits,
    private readonly onViolation: (reason: string) => void,
  ) {}

  feed(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length && !this.failed) {
      if (this.pduRemaining === 0 && !this.inPDataBody()) {
        at = this.readPduHeader(chunk, at);
        continue;
      }
      if (!this.inPData) {
        const skip = Math.min(this.pduRemaining, chunk.length - at);
        this.pduRemaining -= skip;
        at += skip;
        continue;
      }
      at = this.readPData(chunk, at);
    }
  }

  private inPDataBody(): boolean {
    return this.inPData && this.pduRemaining > 0;
  }

  private readPduHeader(chunk: Buffer, at: number): number {
    const take = Math.min(6 - this.pduHeaderFill, chunk.length - at);
    chunk.copy(this.pduHeader, this.pduHeaderFill, at, at + take);
    this.pduHeaderFill += take;
    if (this.pduHeaderFill < 6) return at + take;
    this.pduHeaderFill = 0;
    const type = this.pduHeader[0];
    const length = this.pduHeader.readUInt32BE(2);
    if (type < 0x01 || type > 0x07) return this.fail(`unknown PDU type 0x${type.toString(16).padStart(2, '0')}`);
    if (length > this.limits.maxPduBytes) return this.fail(`PDU of ${length} bytes exceeds the limit of ${this.limits.maxPduBytes}`);
    if (type === P_DATA_TF && !this.associated) return this.fail('P-DATA-TF outside an accepted association');
    this.pduRemaining = length;
    this.inPData = type === P_DATA_TF && length > 0;
    return at + take;
  }

  private readPData(chunk: Buffer, at: number): number {
    if (this.pdvRemaining === 0) {
      const take = Math.min(6 - this.pdvHeaderFill, chunk.length - at, this.pduRemaining);
      chunk.copy(this.pdvHeader, this.pdvHeaderFill, at, at + take);
      this.pdvHeaderFill += take;
      this.pduRemaining -= take;
      if (this.pdvHeaderFill < 6) {
        if (this.pduRemaining === 0) return this.fail('a PDV item header runs past the end of its PDU');
        return at + take;
      }
      this.pdvHeaderFill = 0;
      const itemLength = this.pdvHeader.readUInt32BE(0);
      const valueLength = itemLength - 2;
      if (itemLength < 2 || valueLength > this.pduRemaining) return this.fail('a PDV item length does not fit its PDU');
      const context = this.pdvHeader[4];
      const flags = this.pdvHeader[5];
      const command = (flags & 0x01) !== 0;
      this.pdvCounted = command ? 'command' : this.storageContexts.has(context) ? 'none' : 'query';
      if (!this.count(valueLength)) return at + take;
      if ((flags & 0x02) !== 0) {
        // Last fragment: the next message starts from zero.
        if (command) this.commandBytes = 0;
        else this.queryBytes = 0;
      }
      this.pdvRemaining = valueLength;
      if (this.pduRemaining === 0) this.inPData = false;
      return at + take;
    }
    const skip = Math.min(this.pdvRemaining, chunk.length - at);
    this.pdvRemaining -= skip;
    this.pduRemaining -= skip;
    if (this.pduRemaining === 0) this.inPData = false;
    return at + skip;
  }

  /** Adds a fragment to its message's budget; false (and a violation) when over. */
  private count(bytes: number): boolean {
    if (this.pdvCounted === 'command') {
      this.commandBytes += bytes;
      if (this.commandBytes > this.limits.maxCommandBytes) return (this.fail(`a command set exceeds ${this.limits.maxCommandBytes} bytes`), false);
    } else if (this.pdvCounted === 'query') {
      this.queryBytes += bytes;
      if (this.queryBytes > this.limits.maxQueryBytes) return (this.fail(`a query data set exceeds ${this.limits.maxQueryBytes} bytes`), false);
    }
    return true;
  }

  private fail(reason: string): number {
    if (!this.failed) {
      this.failed = true;
      this.onViolation(reason);
    }
    return Number.MAX_SAFE_INTEGER;
  }
}
