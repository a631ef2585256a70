// DICOM data dictionary lookups (VR and keyword by tag), backed by dcmjs's dictionary.
//
// Implicit VR transfer syntaxes carry no VR on the wire, so the DICOM JSON model (which needs
// one per attribute) has to take it from the dictionary. The dictionary also lists some VRs as
// ambiguous ("US or SS", "OB or OW"); vrOf resolves those from the context the caller passes
// (PixelRepresentation) and PS3.5 Annex A.1's rules for implicit VR.
import dcmjs from 'dcmjs';

/** What the surrounding data set tells us about ambiguous VRs. */
export interface VrContext {
  /** (0028,0103): 0 unsigned, 1 signed. Decides 'US or SS'. */
  pixelRepresentation?: number;
}

interface Entry {
  /** Dictionary VR, possibly one of dcmjs's ambiguous codes ('ox', 'xs', 'lt', 'up', 'na'). */
  vr: string;
  keyword: string;
}

const dictionary = dcmjs.data.DicomMetaDictionary.dictionary;
// dcmjs caches too, but behind a Proxy and keyed by the punctuated tag; one Map here keeps
// the per-element cost of converting a large data set to a plain hash lookup.
const cache = new Map<string, Entry | null>();

/**
 * Normalises the tag spellings used around the code base ('x00100010' from dicom-parser,
 * '00100010' from DICOM JSON, '(0010,0010)' from humans) to 8 upper-case hex digits.
 * Returns undefined for anything that is not a tag.
 */
export function normalizeTag(tag: string): string | undefined {
  let hex = tag.trim();
  if (hex.startsWith('x') || hex.startsWith('X')) hex = hex.slice(1);
  else if (hex.startsWith('(') && hex.endsWith(')')) hex = hex.slice(1, -1).replace(',', '');
  return /^[0-9a-fA-F]{8}$/.test(hex) ? hex.toUpperCase() : undefined;
}

/** True for tags in an odd group (private data elements, PS3.5 7.8). */
export function isPrivateTag(tag: string): boolean {
  const hex = normalizeTag(tag);
  return hex !== undefined && (parseInt(hex.slice(0, 4), 16) & 1) === 1;
}

function lookup(hex: string): Entry | undefined {
  const cached = cache.get(hex);
  if (cached !== undefined) return cached ?? undefined;
  const entry = findEntry(hex);
  cache.set(hex, entry ?? null);
  return entry;
}

function findEntry(hex: string): Entry | undefined {
  const group = parseInt(hex.slice(0, 4), 16);
  const element = parseInt(hex.slice(4), 16);
  // Group length (gggg,0000) is UL in every group (PS3.5 7.2), listed or not.
  const groupLength = { vr: 'UL', keyword: 'GenericGroupLength' };
  // Private groups first: dcmjs's repeating-group ranges (60xx) would otherwise also answer
  // for odd groups like 6001, which are private.
  if ((group & 1) === 1) {
    if (element === 0) return groupLength;
    if (element >= 0x10 && element <= 0xff) return { vr: 'LO', keyword: 'PrivateCreator' };
    return undefined;
  }
  let found = dictionary[`(${hex.slice(0, 4)},${hex.slice(4)})`];
  // Repeating groups dcmjs resolves itself: 50xx (curves) and 60xx (overlays). The retired
  // Variable Pixel Data groups 7Fxx are only listed as 7F00, so look them up there.
  if (!found && group >= 0x7f00 && group < 0x7fe0) found = dictionary[`(7F00,${hex.slice(4)})`];
  if (found) return { vr: found.vr, keyword: found.name.replace(/^RETIRED_/, '') };
  return element === 0 ? groupLength : undefined;
}

/**
 * The VR of a tag by the dictionary, with ambiguous VRs resolved from `context`:
 * - gggg,0000 group length: UL; private creator (odd gggg,0010-00FF): LO; other private: UN.
 * - 'US or SS': SS when PixelRepresentation is 1, else US (also when unknown).
 * - 'OB or OW' (Pixel Data, Overlay/Curve/Waveform Data): OW. Only implicit VR data needs
 *   the dictionary here, and PS3.5 A.1 makes these OW there whatever BitsAllocated is (8-bit
 *   pixels included; DCMTK agrees). In explicit VR the element carries its own VR.
 * - LUT Data ('US or OW'): OW, the implicit VR encoding of PS3.5 A.1.
 * - Offsets 'up' (directory records): UL.
 * Returns undefined for unknown public tags and for item/delimitation tags (FFFE,xxxx).
 */
export function vrOf(tag: string, context: VrContext = {}): string | undefined {
  const hex = normalizeTag(tag);
  if (!hex) return undefined;
  if (isPrivateTag(hex) && !lookup(hex)) return 'UN';
  const entry = lookup(hex);
  if (!entry) return undefined;
  switch (entry.vr) {
    case 'xs':
      return context.pixelRepresentation === 1 ? 'SS' : 'US';
    case 'ox':
    case 'lt':
      return 'OW';
    case 'up':
      return 'UL';
    case 'na':
      return undefined;
    default:
      return entry.vr;
  }
}

/** The attribute keyword ('PatientName'), without dcmjs's 'RETIRED_' prefix. */
export function keywordOf(tag: string): string | undefined {
  const hex = normalizeTag(tag);
  return hex ? lookup(hex)?.keyword : undefined;
}

const byKeyword = new Map<string, string | null>();

/**
 * The tag ('00100010', 8 upper-case hex digits) of a keyword ('PatientName'; retired ones
 * without dcmjs's prefix too), for QIDO-RS keys and includefield. Keywords are case-sensitive, as in PS3.6. Repeating groups
 * give their first group (OverlayData -> 60003000).
 */
export function tagForKeyword(keyword: string): string | undefined {
  let tag = byKeyword.get(keyword);
  if (tag === undefined) {
    const { nameMap } = dcmjs.data.DicomMetaDictionary;
    // Own entries only: `constructor` or `toString` (from a QIDO includefield) are not keywords.
    const own = (name: string) => (Object.hasOwn(nameMap, name) ? nameMap[name] : undefined);
    const entry = /^\w+$/.test(keyword) ? (own(keyword) ?? own(`RETIRED_${keyword}`)) : undefined;
    tag = entry ? (normalizeTag(entry.tag) ?? null) : null;
    byKeyword.set(keyword, tag);
  }
  return tag ?? undefined;
}

/**
 * A vrCallback for dicomParser.parseDicom on implicit VR data: answers 'SQ' for dictionary
 * sequences so dicom-parser parses their items without guessing from the next bytes, and
 * nothing otherwise (dicom-parser then keeps its own handling, and element.vr stays unset).
 */
export function implicitSequenceVr(tag: string): string | undefined {
  const hex = normalizeTag(tag);
  return hex && !isPrivateTag(hex) && lookup(hex)?.vr === 'SQ' ? 'SQ' : undefined;
}
