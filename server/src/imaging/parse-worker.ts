// Worker thread entry: describes the objects the parse pool sends (see describe-instance.ts).
import { parentPort } from 'node:worker_threads';
import { describeInstance } from './describe-instance.js';

parentPort!.on('message', ({ id, bytes }: { id: number; bytes: Uint8Array }) => {
  try {
    parentPort!.postMessage({ id, result: describeInstance(bytes) });
  } catch (err) {
    parentPort!.postMessage({ id, error: (err as Error).message });
  }
});
