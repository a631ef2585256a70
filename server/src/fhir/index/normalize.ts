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
