// Decoding text in the Specific Character Set (0008,0005), PS3.3 C.12.1.1.2 / PS3.5 6.1: the
// single-byte sets, UTF-8, GB18030/GBK (Chinese modalities), and ISO 2022 code extensions.
// Unknown sets (or a Node without full ICU) fall back to Latin-1 and never throw.


/** TextDecoder labels for the single-byte and Unicode/GB character sets. */
/** Bytes as ISO 8859-1 (Node's 'latin1'; TextDecoder's is windows-1252). */
export function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1');
}

const DECODERS: Record<string, string> = {
  'ISO_IR 6': 'latin1', 'ISO_IR 100': 'latin1', 'ISO_IR 101': 'iso-8859-2', 'ISO_IR 109': 'iso-8859-3',
  'ISO_IR 110': 'iso-8859-4', 'ISO_IR 144': 'iso-8859-5', 'ISO_IR 127': 'iso-8859-6', 'ISO_IR 126': 'iso-8859-7',
  'ISO_IR 138': 'iso-8859-8', 'ISO_IR 148': 'iso-8859-9', 'ISO_IR 203': 'iso-8859-15', 'ISO_IR 13': 'shift_jis',
  'ISO_IR 166': 'windows-874', 'ISO_IR 192': 'utf-8', GB18030: 'gb18030', GBK: 'gbk',
};
/** ISO 2022 escape sequences (after ESC) -> which code element they designate, and its decoder. */
const ESCAPES: Record<string, { g: 0 | 1; label: string }> = {
  '(B': { g: 0, label: 'latin1' }, '(J': { g: 0, label: 'latin1' }, ')I': { g: 1, label: 'shift_jis' },
  '-A': { g: 1, label: 'latin1' }, '-B': { g: 1, label: 'iso-8859-2' }, '-C': { g: 1, label: 'iso-8859-3' },
  '-D': { g: 1, label: 'iso-8859-4' }, '-L': { g: 1, label: 'iso-8859-5' }, '-G': { g: 1, label: 'iso-8859-6' },
  '-F': { g: 1, label: 'iso-8859-7' }, '-H': { g: 1, label: 'iso-8859-8' }, '-M': { g: 1, label: 'iso-8859-9' },
  '-T': { g: 1, label: 'windows-874' }, '-b': { g: 1, label: 'iso-8859-15' },
  $B: { g: 0, label: 'jis0208' }, '$(D': { g: 0, label: 'jis0212' },
  '$)A': { g: 1, label: 'gbk' }, '$)C': { g: 1, label: 'euc-kr' },
};
const decoders = new Map<string, TextDecoder>();

function decodeWith(label: string, bytes: Uint8Array): string {
  // Node's 'latin1' Buffer decoding is true ISO 8859-1; TextDecoder's is windows-1252.
  if (label === 'latin1') return latin1(bytes);
  let decoder = decoders.get(label);
  if (!decoder) {
    try {
      decoder = new TextDecoder(label);
    } catch {
      return latin1(bytes); // a Node built without full ICU lacks the legacy encodings
    }
    decoders.set(label, decoder);
  }
  return decoder.decode(bytes);
}

/** Normalises one Specific Character Set term: 'ISO-IR 100' and 'iso_ir 100' are seen too. */
function term(value: string | undefined): string {
  return (value ?? '').trim().toUpperCase().replace(/^ISO-IR/, 'ISO_IR');
}

/**
 * Decodes text in the given Specific Character Set value (backslash-separated terms). Unknown
 * sets decode as latin1 rather than fail: a garbled name beats a failed metadata response.
 */
export function decodeText(bytes: Uint8Array, characterSet: string | undefined): string {
  const terms = (characterSet ?? '').split('\\').map(term);
  if (!terms.some((t) => t.startsWith('ISO 2022'))) return decodeWith(DECODERS[terms[0]] ?? 'latin1', bytes);
  return decodeIso2022(bytes, terms[0]);
}

/**
 * ISO 2022 code extensions: escape sequences switch what the 7-bit (G0) and 8-bit (G1) bytes
 * mean. Each run of bytes between escapes is decoded with the sets designated at that point.
 */
function decodeIso2022(bytes: Uint8Array, first: string): string {
  const initial = DECODERS[first.replace('ISO 2022 ', 'ISO_')] ?? 'latin1';
  // A multi-byte set named first (not allowed, but seen) is still the G1 set for high bytes.
  const g = ['latin1', first.endsWith('IR 58') ? 'gbk' : first.endsWith('IR 149') ? 'euc-kr' : initial];
  let out = '';
  let start = 0;
  for (let i = 0; i <= bytes.length; i++) {
    if (i < bytes.length && bytes[i] !== 0x1b) continue;
    out += decodeRun(bytes.subarray(start, i), g[0], g[1]);
    if (i === bytes.length) break;
    let end = i + 1; // ESC, intermediate bytes 0x20-0x2F, one final byte
    while (end < bytes.length && bytes[end] >= 0x20 && bytes[end] <= 0x2f) end++;
    const escape = ESCAPES[latin1(bytes.subarray(i + 1, end + 1))];
    if (escape) g[escape.g] = escape.label;
    start = end + 1;
    i = end;
  }
  return out;
}

function decodeRun(bytes: Uint8Array, g0: string, g1: string): string {
  let out = '';
  for (let at = 0; at < bytes.length; ) {
    const high = bytes[at] >= 0x80;
    let end = at;
    while (end < bytes.length && bytes[end] >= 0x80 === high) end++;
    const run = bytes.subarray(at, end);
    if (high) out += decodeWith(g1, run);
    else if (g0 === 'jis0208' || g0 === 'jis0212') out += decodeJis(run, g0 === 'jis0212');
    else out += decodeWith(g0, run);
    at = end;
  }
  return out;
}

/** 7-bit JIS X 0208/0212 byte pairs, decoded through their EUC-JP form (high bits set). */
function decodeJis(run: Uint8Array, supplementary: boolean): string {
  const euc: number[] = [];
  for (let i = 0; i + 1 < run.length; i += 2) {
    if (supplementary) euc.push(0x8f);
    euc.push(run[i] | 0x80, run[i + 1] | 0x80);
  }
  return decodeWith('euc-jp', Uint8Array.from(euc));
}
