// Parses literal references for the index: the type and id a reference points at.
const REFERENCE_PATTERN = /(?:^|\/)([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[A-Za-z0-9\-.]{1,64})?$/;

/** `Patient/1`, `http://host/fhir/Patient/1/_history/2` → {type: Patient, id: 1}. */
export function parseReference(reference: string): { type: string; id: string } | undefined {
  const m = REFERENCE_PATTERN.exec(reference);
  return m ? { type: m[1], id: m[2] } : undefined;
}

