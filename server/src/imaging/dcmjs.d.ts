// dcmjs ships no TypeScript types. We only use its data dictionary; declare just that.
declare module 'dcmjs' {
  export interface DcmjsDictionaryEntry {
    tag: string;
    /** Standard VR, or a dcmjs code for an ambiguous one: 'ox' (OB or OW), 'xs' (US or SS),
     * 'lt' (US, SS or OW: LUT data), 'up' (UL offsets), 'na' (items and delimiters). */
    vr: string;
    vm: string;
    /** Keyword; retired attributes are prefixed 'RETIRED_'. */
    name: string;
    version: string;
  }
  const dcmjs: {
    data: {
      DicomMetaDictionary: {
        /** Keyed '(GGGG,EEEE)' with upper-case hex; repeating groups (50xx, 60xx) resolve by range. */
        dictionary: Record<string, DcmjsDictionaryEntry | undefined>;
        /** Keyed by keyword (retired ones as 'RETIRED_Keyword'); repeating groups as their first group. */
        nameMap: Record<string, DcmjsDictionaryEntry | undefined>;
      };
    };
  };
  export default dcmjs;
}
