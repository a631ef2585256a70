/**
 * The form string search compares: case-folded, accents removed, whitespace collapsed.
 * Chinese characters pass through unchanged (NFD does not decompose them).
 */
export function normalizeString(value: string): string {
  return value.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase().replace(/\s+/g, ' ').trim();
}

/** Escapes LIKE wildcards so user text is matched literally. */
export function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (c) => '\\' + c);
}

const MAX_CODE_POINT = 0x10ffff;

/**
 * The least text greater than every text that starts with `prefix`, in code point order (which
 * is UTF-8's byte order, the order of text_pattern_ops): `prefix` with its last character moved
 * one code point on. So `t` starts with `prefix` exactly when `prefix <= t < prefixEnd(prefix)`.
 * Undefined when there is no such text (empty, or only U+10FFFF).
 */
export function prefixEnd(prefix: string): string | undefined {
  const chars = [...prefix];
  while (chars.length) {
    const last = chars.pop()!.codePointAt(0)!;
    if (last === MAX_CODE_POINT) continue;
    // Surrogate code points are not characters: the one after U+D7FF is U+E000.
    const next = last + 1 === 0xd800 ? 0xe000 : last + 1;
    return chars.join('') + String.fromCodePoint(next);
  }
  return undefined;
}
