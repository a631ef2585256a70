// STOW-RS streams: a 2 GB upload is never held in memory, and an upload cut off midway leaves no
// object and no index row. (PGlite only: what is measured here happens before the database.)
import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { listBlobKeys, type FileBlobStore } from '../../server/src/imaging/blob-store.js';
import { syntheticInstance } from '../helpers/dicom.js';
import { useTestHub } from '../helpers/use-hub.js';

const MiB = 1024 * 1024;
const BOUNDARY = 'large-upload-boundary';

/** A multipart body of synthetic instances, generated chunk by chunk; hashes each instance as it goes. */
async function* body(instances: { head: Buffer; pixelBytes: number }[], hashes: string[], stopAfterBytes = Infinity): AsyncGenerator<Buffer> {
  const filler = randomBytes(MiB);
  let sent = 0;
  for (const { head, pixelBytes } of instances) {
    const hash = createHash('sha256');
    yield Buffer.from(`--${BOUNDARY}\r\nContent-Type: application/dicom\r\n\r\n`);
    hash.update(head);
    yield head;
    for (let left = pixelBytes; left > 0; left -= MiB) {
      const chunk = left >= MiB ? filler : filler.subarray(0, left);
      hash.update(chunk);
      sent += chunk.length;
      if (sent > stopAfterBytes) return;
      yield chunk;
    }
    hashes.push(hash.digest('hex'));
    yield Buffer.from('\r\n');
  }
  yield Buffer.from(`--${BOUNDARY}--\r\n`);
}

/** A fetch body chunk by chunk; leaving the loop early cancels it. */
async function* chunksOf(body: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

function post(url: string, token: string, chunks: AsyncIterable<Buffer>, abortAfterBody = false): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': `multipart/related; type="application/dicom"; boundary=${BOUNDARY}` } }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, text }));
    });
    req.on('error', (err) => (abortAfterBody ? resolve({ status: 0, text: err.message }) : reject(err)));
    void (async () => {
      for await (const chunk of chunks) if (!req.write(chunk)) await new Promise((r) => req.once('drain', r));
      if (abortAfterBody) req.destroy();
      else req.end();
    })();
  });
}

describe('STOW-RS with large bodies (pglite)', () => {
  const t = useTestHub('pglite');
  const uid = (n: number) => `1.2.826.0.1.3680043.10.1234.${Date.now()}.${n}`;

  it('stores a 2 GB upload of four 512 MiB instances with bounded memory, byte for byte', async () => {
    const study = uid(0);
    const series = uid(1);
    const sopUids = [2, 3, 4, 5].map(uid);
    const instances = sopUids.map((instance) => syntheticInstance({ study, series, instance }, 4096, 4096, 16));
    expect(instances.reduce((sum, i) => sum + i.pixelBytes, 0)).toBe(2048 * MiB);
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
    const hashes: string[] = [];
    const res = await post(`${t.url}/dicomweb/studies`, t.token, body(instances, hashes));
    clearInterval(sampler);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)['00081199'].Value).toHaveLength(4);
    // The hub and this test share a process: whatever either held would show here.
    expect((peak - before) / MiB).toBeLessThan(256);
    const rows = await t.hub.db.query<{ blob_key: string }>('select blob_key from dicom_instance where study_uid = $1 order by instance_number, seq', [study]);
    expect(rows.map((r) => r.blob_key).sort()).toEqual([...hashes].sort());

    // WADO-RS streams it back: a 512 MiB instance byte for byte, and a client that walks away
    // from the whole study midway costs the hub nothing.
    const instanceUrl = `${t.url}/dicomweb/studies/${study}/series/${series}/instances/${sopUids[0]}`;
    const one = await fetch(instanceUrl, { headers: { authorization: `Bearer ${t.token}`, accept: 'application/dicom' } });
    expect(one.status).toBe(200);
    const hash = createHash('sha256');
    for await (const chunk of chunksOf(one.body!)) hash.update(chunk);
    expect(hash.digest('hex')).toBe(hashes[0]);
    const whole = await fetch(`${t.url}/dicomweb/studies/${study}`, { headers: { authorization: `Bearer ${t.token}`, accept: 'multipart/related; type="application/dicom"' } });
    expect(whole.status).toBe(200);
    let received = 0;
    for await (const chunk of chunksOf(whole.body!)) {
      received += chunk.length;
      if (received > 20 * MiB) break; // leaves the rest unread: the stream is cancelled, the connection dropped
    }
    expect((await t.fetch(`${t.url}/dicomweb/studies?StudyInstanceUID=${study}`)).status).toBe(200);
  }, 600_000);

  it('an upload cut off midway leaves no object, no staged file and no index row, whether held in memory or streamed to disk', async () => {
    const store = t.hub.imaging.blobs as FileBlobStore;
    const staged = () => readdir(join(store.root, 'staging'));
    const keys = (await listBlobKeys(store.root)).length;
    const [{ n: rows }] = await t.hub.db.query<{ n: number }>('select count(*)::int as n from dicom_instance');
    // 16 MiB cut at 5 MiB (the hub holds objects up to 64 MiB in memory); 96 MiB cut at 80 MiB
    // (streamed to a staging file, which must go).
    for (const [n, frames, cutAt] of [[10, 8, 5 * MiB], [20, 48, 80 * MiB]]) {
      const instance = syntheticInstance({ study: uid(n), series: uid(n + 1), instance: uid(n + 2) }, 1024, 1024, frames);
      await post(`${t.url}/dicomweb/studies`, t.token, body([instance], [], cutAt), true);
      // The hub learns of the cut when the connection closes; give its clean-up time to run.
      for (let i = 0; i < 400 && (await staged()).length; i++) await new Promise((r) => setTimeout(r, 50));
      expect({ frames, staged: await staged() }).toEqual({ frames, staged: [] });
      expect((await listBlobKeys(store.root)).length).toBe(keys);
      expect(await t.hub.db.query('select count(*)::int as n from dicom_instance')).toEqual([{ n: rows }]);
    }
    // ... and the hub goes on serving.
    expect((await t.fetch(`${t.url}/dicomweb/studies?limit=1`)).status).toBe(200);
  }, 60_000);
});
