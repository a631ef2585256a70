// Streaming multipart/related (RFC 2046 §5.1, RFC 2387) for DICOMweb: STOW-RS request bodies are
// read part by part without ever holding a part (they can be gigabytes) in memory, and WADO-RS
// responses are written the same way.
import { randomBytes } from 'node:crypto';

/** A malformed multipart body or Content-Type; the message says what is wrong and what to send. */
export class MultipartError extends Error {
  override readonly name = 'MultipartError';
}

export interface MultipartPart {
  /** Header names lower-cased; repeated headers joined with ", ". */
  headers: Record<string, string>;
  /** Must be read (or abandoned) before the next part is requested; advancing discards the rest. */
  body: AsyncIterable<Buffer>;
}

export interface MultipartContentType {
  type: string;
  boundary: string;
  params: Record<string, string>;
}

export interface MultipartInput {
  headers: Record<string, string>;
  body: AsyncIterable<Buffer> | Buffer;
}

// RFC 2046 bchars: 1..70 characters, may contain spaces but must not end with one.
const BOUNDARY = /^[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]$/;
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const CRLF = Buffer.from('\r\n');
// When leftover bytes must be joined with a new chunk, only this much of the chunk is copied;
// the rest is pushed back, so a small tail never causes a copy of a whole (1 MiB+) chunk.
const PIECE = 8192;
const EXAMPLE = 'send Content-Type: multipart/related; type="application/dicom"; boundary=<1-70 chars>';

function checkBoundary(boundary: string): void {
  if (!BOUNDARY.test(boundary)) {
    const rule = `1-70 characters of letters, digits and '()+_,-./:=? (spaces allowed, not last)`;
    throw new MultipartError(`invalid multipart boundary ${JSON.stringify(boundary)}: it must be ${rule}; ${EXAMPLE}`);
  }
}

/**
 * Parses a multipart/related Content-Type. `type` is the value of the `type` parameter (the root
 * part's media type, lower-cased; '' when absent); `params` holds every parameter, names
 * lower-cased, values unquoted.
 */
export function parseMultipartContentType(header: string | undefined): MultipartContentType {
  const text = (header ?? '').trim();
  const semi = text.indexOf(';');
  const media = (semi < 0 ? text : text.slice(0, semi)).trim().toLowerCase();
  if (media !== 'multipart/related') {
    throw new MultipartError(`Content-Type must be multipart/related, got ${JSON.stringify(header ?? '')}; ${EXAMPLE}`);
  }
  const params: Record<string, string> = {};
  // name=token or name="quoted \"string\"", separated by ';' with optional whitespace.
  const param = /\s*;\s*(?:([^\s=;]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s";]*))\s*)?/y;
  for (let at = semi < 0 ? text.length : semi; at < text.length; ) {
    param.lastIndex = at;
    const m = param.exec(text);
    if (!m || param.lastIndex === at) {
      throw new MultipartError(`malformed Content-Type parameters near ${JSON.stringify(text.slice(at))}; ${EXAMPLE}`);
    }
    at = param.lastIndex;
    if (m[1]) params[m[1].toLowerCase()] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3];
  }
  const boundary = params.boundary;
  if (boundary === undefined) throw new MultipartError(`Content-Type has no boundary parameter; ${EXAMPLE}`);
  checkBoundary(boundary);
  return { type: (params.type ?? '').trim().toLowerCase(), boundary, params };
}

/** Pulls chunks from the body and finds delimiters in them; all reads of one body go through here. */
class Scanner {
  // A virtual CRLF in front of the body: then "--boundary" at the very start is found by the same
  // search for "\r\n--boundary" as every later delimiter (whose CRLF belongs to the delimiter).
  buf: Buffer = CRLF;
  inSegment = true;
  part = 0;
  private pushed: Buffer | undefined;
  private ended = false;
  private readonly it: AsyncIterator<Buffer>;

  constructor(body: AsyncIterable<Buffer>, readonly delim: Buffer) {
    this.it = body[Symbol.asyncIterator]();
  }

  /** Appends input to `buf`; false at the end of the body. */
  async more(): Promise<boolean> {
    let chunk = this.pushed;
    this.pushed = undefined;
    while (!chunk) {
      if (this.ended) return false;
      const r = await this.it.next();
      if (r.done) {
        this.ended = true;
        return false;
      }
      const v: Uint8Array = r.value;
      // A plain Uint8Array would make indexOf search for a single element: view it as a Buffer.
      if (v.length) chunk = Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
    }
    if (this.buf.length === 0) {
      this.buf = chunk;
    } else {
      if (chunk.length > PIECE) [chunk, this.pushed] = [chunk.subarray(0, PIECE), chunk.subarray(PIECE)];
      this.buf = Buffer.concat([this.buf, chunk]);
    }
    return true;
  }

  /** Discards the rest of the input (the epilogue), so an HTTP request is read to its end. */
  async drain(): Promise<void> {
    this.buf = Buffer.alloc(0);
    this.pushed = undefined;
    while (!this.ended) this.ended = (await this.it.next()).done === true;
  }

  /**
   * The next run of bytes before the delimiter, or null once the delimiter has been consumed.
   * Holds back only a tail that could be the start of a split delimiter.
   */
  async segment(eofMessage: string): Promise<Buffer | null> {
    while (this.inSegment) {
      const i = this.buf.indexOf(this.delim);
      if (i >= 0) {
        const data = this.buf.subarray(0, i);
        this.buf = this.buf.subarray(i + this.delim.length);
        this.inSegment = false;
        return i > 0 ? data : null;
      }
      const keep = this.partialDelimiterAt();
      if (keep > 0) {
        const data = this.buf.subarray(0, keep);
        this.buf = this.buf.subarray(keep);
        return data;
      }
      if (!(await this.more())) throw new MultipartError(eofMessage);
    }
    return null;
  }

  /** Where a suffix of `buf` that is a prefix of the delimiter starts (buf.length if none). */
  private partialDelimiterAt(): number {
    const { buf, delim } = this;
    for (let i = Math.max(0, buf.length - delim.length + 1); (i = buf.indexOf(13, i)) >= 0; i++) {
      if (delim.compare(buf, i, buf.length, 0, buf.length - i) === 0) return i;
    }
    return buf.length;
  }

  /** One line of at most `limit` bytes counting its CRLF, consumed and returned without the CRLF. */
  async line(limit: number, tooLong: string, eofMessage: string): Promise<Buffer> {
    for (let from = 0; ; ) {
      const i = this.buf.indexOf(CRLF, from);
      // Without a CRLF yet, the line is at least buf.length + 1 bytes (buf may end in "\r").
      if (i >= 0 ? i + 2 > limit : this.buf.length >= limit) throw new MultipartError(tooLong);
      if (i >= 0) {
        const line = this.buf.subarray(0, i);
        this.buf = this.buf.subarray(i + 2);
        return line;
      }
      from = Math.max(0, this.buf.length - 1); // only the new bytes (and a trailing "\r") are searched again
      if (!(await this.more())) throw new MultipartError(eofMessage);
    }
  }
}

/**
 * Reads a multipart body part by part. Memory stays bounded by about one input chunk plus the
 * header limit, whatever the part sizes. The source is not closed on error: its owner decides.
 */
export async function* readMultipart(
  body: AsyncIterable<Buffer>,
  boundary: string,
  options: { maxHeaderBytes?: number } = {},
): AsyncGenerator<MultipartPart> {
  checkBoundary(boundary);
  const maxHeaderBytes = options.maxHeaderBytes ?? 16 * 1024;
  const s = new Scanner(body, Buffer.from(`\r\n--${boundary}`, 'latin1'));
  const truncated =
    `multipart body is truncated: it ended before the close delimiter "--${boundary}--"; ` +
    `send the complete body, ending with CRLF "--${boundary}--"`;
  const tooLong =
    `multipart part headers exceed ${maxHeaderBytes} bytes; send shorter part headers ` +
    `(each "Name: value" line ends with CRLF, and an empty line ends the headers)`;

  // The preamble, up to the first delimiter, is ignored.
  const noBoundary = `multipart body has no boundary "--${boundary}"; send parts delimited by the boundary given in Content-Type`;
  while ((await s.segment(noBoundary)) !== null);

  for (;;) {
    // After a delimiter: "--" closes the body, otherwise transport padding and CRLF start a part.
    while (s.buf.length < 2) if (!(await s.more())) throw new MultipartError(truncated);
    if (s.buf[0] === 0x2d && s.buf[1] === 0x2d) {
      await s.drain(); // the epilogue is ignored, but read so the sender is not left blocked
      return;
    }
    const padding = await s.line(maxHeaderBytes, tooLong, truncated);
    if (!/^[ \t]*$/.test(padding.toString('latin1'))) {
      const why = 'a part body must not contain a line starting with the boundary, and the boundary line must end with CRLF';
      throw new MultipartError(`multipart boundary "--${boundary}" is followed by unexpected bytes; ${why}`);
    }

    const headers: Record<string, string> = {};
    let last: string | undefined;
    for (let used = 0; ; ) {
      const raw = await s.line(maxHeaderBytes - used, tooLong, truncated);
      used += raw.length + 2;
      if (raw.length === 0) break;
      const text = raw.toString('utf8');
      if (last !== undefined && (text[0] === ' ' || text[0] === '\t')) {
        headers[last] += ' ' + text.trim(); // obsolete folded continuation line
        continue;
      }
      const colon = text.indexOf(':');
      const name = colon < 0 ? '' : text.slice(0, colon).trimEnd().toLowerCase();
      if (!TOKEN.test(name)) {
        const want = 'send "Name: value" lines, then an empty line (CRLF CRLF), before each part body';
        throw new MultipartError(`malformed multipart header line ${JSON.stringify(text.slice(0, 100))}; ${want}`);
      }
      const value = text.slice(colon + 1).trim();
      headers[name] = Object.hasOwn(headers, name) ? `${headers[name]}, ${value}` : value;
      last = name;
    }

    s.inSegment = true;
    const part = ++s.part;
    yield {
      headers,
      body: {
        async *[Symbol.asyncIterator]() {
          // A body iterated after the generator moved on yields nothing rather than the next part.
          for (let c; s.part === part && (c = await s.segment(truncated)) !== null; ) yield c;
        },
      },
    };
    // Whatever the consumer did not read of this part is discarded here.
    while ((await s.segment(truncated)) !== null);
  }
}

/** A random boundary of safe characters (hex), long enough never to occur in the data by chance. */
export function multipartBoundary(): string {
  return `suhe-${randomBytes(20).toString('hex')}`;
}

/** Writes a multipart body; part bodies are streamed through, never concatenated. */
export async function* writeMultipart(
  parts: AsyncIterable<MultipartInput> | Iterable<MultipartInput>,
  boundary: string,
): AsyncGenerator<Buffer> {
  checkBoundary(boundary);
  for await (const { headers, body } of parts) {
    let head = `--${boundary}\r\n`;
    for (const [name, value] of Object.entries(headers)) {
      if (!TOKEN.test(name) || /[\r\n]/.test(value)) {
        throw new MultipartError(`invalid multipart header ${JSON.stringify(name)}: names must be tokens and values single lines`);
      }
      head += `${name}: ${value}\r\n`;
    }
    yield Buffer.from(head + '\r\n', 'utf8');
    if (Buffer.isBuffer(body)) {
      if (body.length) yield body;
    } else {
      for await (const chunk of body) if (chunk.length) yield chunk;
    }
    yield CRLF;
  }
  yield Buffer.from(`--${boundary}--\r\n`, 'latin1');
}
