// Rules for FHIR R4 primitive values in JSON (https://hl7.org/fhir/R4/datatypes.html and json.html):
// the JSON type each primitive must have and the lexical pattern of its string form.
// Patterns follow the R4 specification's regular expressions, anchored; where the spec gives a
// SHOULD that keeps data clean (no control characters in strings), it is enforced.

export type JsonKind = 'string' | 'number' | 'boolean';

const JSON_KIND: Record<string, JsonKind> = {
  base64Binary: 'string',
  boolean: 'boolean',
  canonical: 'string',
  code: 'string',
  date: 'string',
  dateTime: 'string',
  decimal: 'number',
  id: 'string',
  instant: 'string',
  integer: 'number',
  markdown: 'string',
  oid: 'string',
  positiveInt: 'number',
  string: 'string',
  time: 'string',
  unsignedInt: 'number',
  uri: 'string',
  url: 'string',
  uuid: 'string',
  xhtml: 'string',
  // Element.id, Extension.url and Resource.id are typed with FHIRPath system types in R4.
  'http://hl7.org/fhirpath/System.String': 'string',
};

const YEAR = '([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)';
const MONTH = '(0[1-9]|1[0-2])';
const DAY = '(0[1-9]|[1-2][0-9]|3[0-1])';
const TIME = '([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\\.[0-9]{1,9})?';
const ZONE = '(Z|(\\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))';

const PATTERNS: Record<string, RegExp> = {
  // The spec allows whitespace between base64 quads; none other than that.
  base64Binary: /^(\s*[0-9a-zA-Z+/=]{4}\s*)*$/,
  canonical: /^\S*$/,
  code: /^[^\s]+( [^\s]+)*$/,
  date: new RegExp(`^${YEAR}(-${MONTH}(-${DAY})?)?$`),
  dateTime: new RegExp(`^${YEAR}(-${MONTH}(-${DAY}(T${TIME}${ZONE})?)?)?$`),
  id: /^[A-Za-z0-9\-.]{1,64}$/,
  instant: new RegExp(`^${YEAR}-${MONTH}-${DAY}T${TIME}${ZONE}$`),
  oid: /^urn:oid:[0-2](\.(0|[1-9][0-9]*))+$/,
  time: new RegExp(`^${TIME}$`),
  uri: /^\S*$/,
  url: /^\S*$/,
  uuid: /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
};

// Characters below U+0020 other than tab, CR and LF are not allowed in string content.
const CONTROL_CHARACTER = /[\u0000-\u0008\u000B\u000C\u000E-\u001F]/;
const MAX_STRING_LENGTH = 1024 * 1024; // "strings SHALL NOT exceed 1MB"
const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

export function isPrimitiveCode(code: string): boolean {
  return code in JSON_KIND;
}

/** Why `value` is not a valid JSON representation of the primitive type `code`, or undefined. */
export function primitiveProblem(code: string, value: unknown): string | undefined {
  const kind = JSON_KIND[code];
  if (typeof value !== kind) return `expected a JSON ${kind} for ${code}, got ${describeJson(value)}`;
  if (kind === 'string') return stringProblem(code, value as string);
  if (kind === 'number') return numberProblem(code, value as number);
  return undefined;
}

function stringProblem(code: string, text: string): string | undefined {
  if (text.length > MAX_STRING_LENGTH) return 'a string may not exceed 1 MB';
  if (code === 'xhtml') return text.trim() ? undefined : 'the narrative is empty';
  if (!text.trim()) return 'a string must have non-whitespace content';
  if (CONTROL_CHARACTER.test(text)) return 'the string contains a control character';
  const pattern = PATTERNS[code];
  if (pattern && !pattern.test(text)) return `"${clip(text)}" is not a valid ${code}`;
  return undefined;
}

function numberProblem(code: string, n: number): string | undefined {
  if (!Number.isFinite(n)) return 'the number is not finite';
  if (code === 'decimal') return undefined;
  if (!Number.isInteger(n) || n < INT32_MIN || n > INT32_MAX) return `${n} is not a 32-bit ${code}`;
  if (code === 'positiveInt' && n < 1) return `${n} is not a positiveInt (1 or more)`;
  if (code === 'unsignedInt' && n < 0) return `${n} is not an unsignedInt (0 or more)`;
  return undefined;
}

export function describeJson(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `${typeof value}`;
}

export function clip(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}...` : text;
}
