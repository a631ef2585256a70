// A worker that decodes JPEG lossless frames (processes 14 and 14 SV1, Huffman coded) with
// jpeg-lossless-decoder-js, off the page's thread: a 512×512 CT slice takes tens of
// milliseconds, a large radiograph much longer, and the page must keep scrolling meanwhile. The
// page stops this worker if a decode never ends (a malformed stream can make the decoder loop).
import { Decoder } from 'jpeg-lossless-decoder-js';
import type { DecodeReply, DecodeRequest } from './jpeg-lossless-protocol.js';

interface WorkerScope {
  onmessage: ((event: MessageEvent<DecodeRequest>) => void) | null;
  postMessage(message: DecodeReply, transfer?: Transferable[]): void;
}

const scope = self as unknown as WorkerScope;

scope.onmessage = (event) => {
  const { id, frame, bytesPerSample } = event.data;
  try {
    const decoded = new Decoder().decode(frame, 0, frame.byteLength, bytesPerSample);
    // The decoder's output view may not span its whole buffer; send exactly the samples.
    const pixels = decoded.buffer.byteLength === decoded.byteLength ? decoded.buffer : decoded.slice().buffer;
    scope.postMessage({ id, ok: true, pixels: pixels as ArrayBuffer, bytesPerSample: decoded.BYTES_PER_ELEMENT === 1 ? 1 : 2 }, [pixels as ArrayBuffer]);
  } catch (err) {
    scope.postMessage({ id, ok: false, error: err instanceof Error ? err.message : String(err) });
  }
};
