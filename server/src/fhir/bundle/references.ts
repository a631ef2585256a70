// Reference rewriting inside a transaction: `urn:uuid:` fullUrls become the ids the server
// assigned, and conditional references (`Practitioner?identifier=...`) become the one match.
/** Calls `replace` on every `reference` string in the resource; replaces where it returns text. */
export async function rewriteReferences(value: unknown, replace: (reference: string) => Promise<string | undefined>): Promise<void> {
  if (Array.isArray(value)) {
    for (const item of value) await rewriteReferences(item, replace);
    return;
  }
  if (!value || typeof value !== 'object') return;
  const record = value as Record<string, unknown>;
  for (const [key, child] of Object.entries(record)) {
    if (key === 'reference' && typeof child === 'string') {
      const replacement = await replace(child);
      if (replacement !== undefined) record[key] = replacement;
    } else if (child && typeof child === 'object') {
      await rewriteReferences(child, replace);
    }
  }
}

