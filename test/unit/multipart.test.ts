// Streaming multipart/related (STOW-RS in, WADO-RS out): Content-Type parsing, the reader across
// every chunking, its error messages, skipping unread parts, bounded memory, and the writer.
import { describe, expect, it } from '@jest/globals';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  MultipartError,
  multipartBoundary,
  parseMultipartContentType,
  readMultipart,
  writeMultipart,
  type MultipartPart,
} from '../../server/src/imaging/multipart.js';

/** Feeds `data` in chunks of `size` bytes. */
async function* chunked(data: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

async function bytes(source: AsyncIterable<Buffer>): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of source) out.push(c);
  return Buffer.concat(out);
}

async function readAll(body: Buffer, boundary: string, size: number, maxHeaderBytes?: number) {
  const parts: { headers: Record<string, string>; body: Buffer }[] = [];
  for await (const p of readMultipart(chunked(body, size), boundary, { maxHeaderBytes })) {
    parts.push({ headers: p.headers, body: await bytes(p.body) });
  }
  return parts;
}

async function failure(body: Buffer | string, boundary: string, size: number, maxHeaderBytes?: number): Promise<MultipartError> {
  const err = await readAll(Buffer.from(body), boundary, size, maxHeaderBytes).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(MultipartError);
  return err as MultipartError;
}

const SIZES = [1, 2, 3, 4, 5, 6, 7, 64 * 1024];
// Every boundary character class, a space inside, and a repeated prefix ("ab" in "abab...") so that
// a failed partial match must restart correctly.
const B = "abab'()+_,-./:=? z9";

/** Random bytes laced with near-delimiters: "\r\n--" and every proper prefix of "\r\n--" + B. */
function trickyBody(n: number): Buffer {
  const near = `\r\n--${B}`;
  const pieces: Buffer[] = [];
  for (let k = 1; k < near.length; k++) pieces.push(randomBytes(n), Buffer.from(near.slice(0, k) + '#', 'latin1'));
  pieces.push(Buffer.from(`x--${B}\r\n\r\r\n-\r`, 'latin1'), randomBytes(n));
  return Buffer.concat(pieces);
}

describe('parseMultipartContentType', () => {
  it('parses quoted and unquoted parameters with case-insensitive names', () => {
    expect(parseMultipartContentType('multipart/related; type="application/dicom"; boundary=xyz')).toEqual({
      type: 'application/dicom',
      boundary: 'xyz',
      params: { type: 'application/dicom', boundary: 'xyz' },
    });
    const r = parseMultipartContentType(
      'Multipart/Related ;BOUNDARY="a b,c=d" ; Type=Application/DICOM;start="<1@x>"; start-info="say \\"hi\\"";',
    );
    expect(r.boundary).toBe('a b,c=d');
    expect(r.type).toBe('application/dicom');
    expect(r.params).toEqual({ boundary: 'a b,c=d', type: 'Application/DICOM', start: '<1@x>', 'start-info': 'say "hi"' });
    expect(parseMultipartContentType(`multipart/related; boundary=${'x'.repeat(70)}`).type).toBe('');
  });

  it('rejects what is not multipart/related with a usable boundary, saying what to send', () => {
    for (const bad of [
      undefined,
      '',
      'application/dicom',
      'multipart/form-data; boundary=x',
      'multipart/related; type="application/dicom"',
      'multipart/related; boundary=',
      'multipart/related; boundary=""',
      `multipart/related; boundary=${'x'.repeat(71)}`,
      'multipart/related; boundary="ends with space "',
      'multipart/related; boundary="a\u00e9"',
      'multipart/related; boundary="unterminated',
      'multipart/related; boundary=x; junk',
    ]) {
      expect(() => parseMultipartContentType(bad)).toThrow(MultipartError);
      expect(() => parseMultipartContentType(bad)).toThrow(/send Content-Type: multipart\/related; type="application\/dicom"; boundary=/);
    }
  });
});

describe('writeMultipart', () => {
  it('writes the exact RFC 2046 framing, from sync or async parts, Buffer or streamed bodies', async () => {
    const out = await bytes(
      writeMultipart(
        [
          { headers: { 'Content-Type': 'application/dicom' }, body: Buffer.from('AB') },
          { headers: {}, body: chunked(Buffer.from('\r\nC'), 1) },
        ],
        'b',
      ),
    );
    expect(out.toString('latin1')).toBe('--b\r\nContent-Type: application/dicom\r\n\r\nAB\r\n--b\r\n\r\n\r\nC\r\n--b--\r\n');
    expect((await bytes(writeMultipart([], 'b'))).toString()).toBe('--b--\r\n');
  });

  it('refuses header injection and bad boundaries', async () => {
    await expect(bytes(writeMultipart([{ headers: { a: 'x\r\nEvil: 1' }, body: Buffer.alloc(0) }], 'b'))).rejects.toThrow(MultipartError);
    await expect(bytes(writeMultipart([{ headers: { 'a b': 'x' }, body: Buffer.alloc(0) }], 'b'))).rejects.toThrow(MultipartError);
    await expect(bytes(writeMultipart([], 'x'.repeat(71)))).rejects.toThrow(MultipartError);
  });

  it('makes random boundaries that parse', () => {
    const a = multipartBoundary();
    expect(a).not.toBe(multipartBoundary());
    expect(parseMultipartContentType(`multipart/related; boundary=${a}`).boundary).toBe(a);
  });
});

describe('readMultipart', () => {
  it('round-trips binary parts with near-delimiters through every chunk size', async () => {
    const sent: { headers: Record<string, string>; body: Buffer }[] = [
      { headers: { 'content-type': 'application/dicom', 'content-location': '/a/\u00fc' }, body: trickyBody(50) },
      { headers: {}, body: Buffer.alloc(0) },
      { headers: { 'x-one': '1' }, body: Buffer.from('\r\n') }, // a body ending in CRLF keeps it
      { headers: { 'x-two': '2' }, body: Buffer.concat([trickyBody(3), Buffer.from('\r\n-\r')]) },
    ];
    const wire = await bytes(Readable.from(writeMultipart(sent, B)));
    for (const size of SIZES) {
      const got = await readAll(wire, B, size);
      expect(got.map((p) => p.headers)).toEqual(sent.map((p) => p.headers));
      got.forEach((p, i) => expect(p.body.equals(sent[i].body)).toBe(true));
    }
  });

  it('ignores preamble and epilogue, and accepts padding, folding and header-less parts', async () => {
    const wire =
      `preamble --${B} not a delimiter\r\n\r\n--${B} \t\r\n` +
      `Content-Type:application/dicom\r\nX-Folded: a\r\n\t b\r\nX-Dup: 1\r\nx-dup: 2\r\n\r\nbody1` +
      `\r\n--${B}\r\n\r\nbody2\r\n--${B}--  \r\nepilogue\r\n--${B}\r\nX: not a part\r\n\r\n`;
    for (const size of SIZES) {
      expect(await readAll(Buffer.from(wire, 'latin1'), B, size)).toEqual([
        { headers: { 'content-type': 'application/dicom', 'x-folded': 'a b', 'x-dup': '1, 2' }, body: Buffer.from('body1') },
        { headers: {}, body: Buffer.from('body2') },
      ]);
    }
    // Boundary at the very start, close delimiter without a final CRLF, no parts at all.
    expect(await readAll(Buffer.from('--b\r\nA: 1\r\n\r\nx\r\n--b--'), 'b', 1)).toEqual([{ headers: { a: '1' }, body: Buffer.from('x') }]);
    expect(await readAll(Buffer.from('--b--\r\n'), 'b', 3)).toEqual([]);
  });

  it('accepts Uint8Array chunks', async () => {
    const wire = new Uint8Array(Buffer.from('--b\r\n\r\nxyz\r\n--b--'));
    const parts: Buffer[] = [];
    async function* source() {
      yield wire;
    }
    for await (const p of readMultipart(source() as AsyncIterable<Buffer>, 'b')) parts.push(await bytes(p.body));
    expect(parts).toEqual([Buffer.from('xyz')]);
  });

  it('says the body is truncated when the close delimiter never comes', async () => {
    const whole = `--b\r\nA: 1\r\n\r\npayload\r\n--b--\r\n`;
    // Cut inside the headers, inside the body, right after a delimiter, inside the close delimiter.
    for (const body of [8, 12, 17, 22, 24, 25, 26].map((cut) => whole.slice(0, cut)).concat('--b\r\n\r\nx\r\n--b\r\n')) {
      for (const size of [1, 4, 1000]) {
        expect((await failure(body, 'b', size)).message).toMatch(/truncated.*send the complete body/);
      }
    }
  });

  it('says when the boundary is never found', async () => {
    for (const body of ['', 'no parts here', 'x--b\r\n', '\r\n--a\r\n\r\nx\r\n--a--']) {
      expect((await failure(body, 'b', 2)).message).toMatch(/no boundary "--b"/);
    }
  });

  it('rejects oversized headers without reading on, and malformed header lines', async () => {
    // 1 KiB limit against a 10 MiB header-less run: must fail after about a kilobyte of input.
    let pulled = 0;
    async function* flood() {
      yield Buffer.from('--b\r\nX: ');
      for (let i = 0; i < 10 * 1024; i++, pulled++) yield Buffer.alloc(1024, 0x61);
    }
    const err = await (async () => {
      for await (const p of readMultipart(flood(), 'b', { maxHeaderBytes: 1024 })) void p;
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MultipartError);
    expect((err as Error).message).toMatch(/headers exceed 1024 bytes/);
    expect(pulled).toBeLessThan(3);
    // The limit counts all of a part's header lines; exactly at the limit is fine.
    const head = 'A: 12345\r\n'; // 10 bytes, plus the 2-byte empty line
    for (const size of [1, 5, 100]) {
      expect(await readAll(Buffer.from(`--b\r\n${head.repeat(3)}\r\nx\r\n--b--`), 'b', size, 32)).toHaveLength(1);
      expect((await failure(`--b\r\n${head.repeat(3)}\r\nx\r\n--b--`, 'b', size, 31)).message).toMatch(/exceed 31 bytes/);
    }
    for (const line of ['no colon', ': empty name', 'bad name: x', '\u00e4: x', ' leading fold: x']) {
      expect((await failure(`--b\r\n${line}\r\n\r\nx\r\n--b--`, 'b', 3)).message).toMatch(/malformed multipart header line/);
    }
    expect((await failure('--b\r\n\r\nx\r\n--bX\r\n\r\ny\r\n--b--', 'b', 3)).message).toMatch(/followed by unexpected bytes/);
  });

  it('discards the unread rest of a part when the generator advances', async () => {
    const bodies = [randomBytes(300_000), randomBytes(70_000), randomBytes(5)];
    const wire = await bytes(writeMultipart(bodies.map((body, i) => ({ headers: { n: String(i) }, body })), B));
    for (const size of [7, 4096]) {
      const seen: string[] = [];
      const stale: MultipartPart[] = [];
      for await (const p of readMultipart(chunked(wire, size), B)) {
        seen.push(p.headers.n);
        stale.push(p);
        if (p.headers.n === '0') {
          // Read a little, then abandon the iterator part-way.
          for await (const c of p.body) {
            expect(c.equals(bodies[0].subarray(0, c.length))).toBe(true);
            break;
          }
        } else if (p.headers.n === '2') {
          expect((await bytes(p.body)).equals(bodies[2])).toBe(true);
        } // part 1 is not touched at all
      }
      expect(seen).toEqual(['0', '1', '2']);
      // A body iterated after the generator moved on yields nothing (not the next part's bytes).
      expect((await bytes(stale[1].body)).length).toBe(0);
    }
  });

  it('streams a 200 MiB body in 1 MiB chunks with bounded memory', async () => {
    const MiB = 1024 * 1024;
    // A ring of four buffers, rewritten as they are reused: the source allocates nothing, so RSS
    // growth is the parser's own copying; a parser that held on to chunks by reference and yielded
    // them later would yield overwritten bytes, and the hashes would not match.
    const ring = [0, 1, 2, 3].map(() => randomBytes(MiB));
    const expected = [createHash('sha256'), createHash('sha256')];
    async function* payload(part: number, count: number) {
      for (let i = 0; i < count; i++) {
        const chunk = ring[i % ring.length];
        chunk.writeUInt32BE(i, part * 8 + (i % 1000)); // every chunk differs
        expected[part].update(chunk);
        yield chunk;
      }
    }
    const boundary = multipartBoundary();
    const wire = writeMultipart(
      [
        { headers: { 'content-type': 'application/dicom' }, body: payload(0, 120) },
        { headers: { 'content-type': 'application/dicom' }, body: payload(1, 80) },
      ],
      boundary,
    );
    const rssBefore = process.memoryUsage().rss;
    let rssMax = rssBefore;
    const got: { hash: string; length: number }[] = [];
    for await (const part of readMultipart(wire, boundary)) {
      const hash = createHash('sha256');
      let length = 0;
      for await (const c of part.body) {
        hash.update(c);
        if ((length += c.length) % (16 * MiB) < c.length) rssMax = Math.max(rssMax, process.memoryUsage().rss);
      }
      got.push({ hash: hash.digest('hex'), length });
    }
    expect(got).toEqual([
      { hash: expected[0].digest('hex'), length: 120 * MiB },
      { hash: expected[1].digest('hex'), length: 80 * MiB },
    ]);
    expect(rssMax - rssBefore).toBeLessThan(32 * MiB);
  });
});
