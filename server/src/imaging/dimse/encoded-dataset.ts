// A dcmjs-dimse Dataset whose encoding is fixed in advance: a stored object's data set bytes (sent
// as they are, never decoded or transcoded) or a response identifier encoded once up front (so an
// attribute dcmjs cannot encode is found before anything is sent — dcmjs-dimse drops the whole
// association when encoding fails mid-send).
import dimse from 'dcmjs-dimse';

export class EncodedDataset extends dimse.Dataset {
  constructor(
    private encoded: Buffer,
    transferSyntax: string,
    elements: Record<string, unknown> = {},
  ) {
    super(elements, transferSyntax);
  }

  override getDenaturalizedDataset(): Buffer {
    return this.encoded;
  }

  /** Lets the bytes go once sent: dcmjs-dimse keeps every request of an association. */
  release(): void {
    this.encoded = Buffer.alloc(0);
  }

  /** Encodes naturalized elements in `transferSyntax`; falls back to `fallback` if they cannot be. */
  static encode(elements: Record<string, unknown>, transferSyntax: string, fallback?: Record<string, unknown>): EncodedDataset {
    try {
      return new EncodedDataset(new dimse.Dataset(elements, transferSyntax).getDenaturalizedDataset(), transferSyntax);
    } catch (err) {
      if (!fallback) throw err;
      return new EncodedDataset(new dimse.Dataset(fallback, transferSyntax).getDenaturalizedDataset(), transferSyntax);
    }
  }
}
