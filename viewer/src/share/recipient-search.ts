// Finding whom to share with by name: a FHIR search of Organization or Practitioner with the
// signed-in user's token (read and search are within the viewer's scopes). A convenience only —
// the id field takes a reference typed in directly, and the hub checks the recipient anyway.
import type { HubClient } from '../dicomweb/http.js';
import type { HubLocation } from '../hub-location.js';

export interface RecipientMatch {
  /** Organization/{id} or Practitioner/{id} */
  reference: string;
  name: string;
}

interface HumanName {
  text?: string;
  family?: string;
  given?: string[];
}

interface SearchBundle {
  entry?: { resource?: { resourceType?: string; id?: string; name?: string | HumanName[] } }[];
}

const MAX_MATCHES = 10;

export async function searchRecipients(client: HubClient, hub: HubLocation, kind: 'organization' | 'practitioner', name: string): Promise<RecipientMatch[]> {
  const type = kind === 'organization' ? 'Organization' : 'Practitioner';
  const params = new URLSearchParams({ name, _count: String(MAX_MATCHES) });
  const bundle = await client.json<SearchBundle>(`${hub.fhirBase}/${type}?${params}`, { accept: 'application/fhir+json' });
  const matches: RecipientMatch[] = [];
  for (const entry of bundle.entry ?? []) {
    const resource = entry.resource;
    if (resource?.resourceType !== type || !resource.id) continue;
    matches.push({ reference: `${type}/${resource.id}`, name: displayName(resource.name) || resource.id });
  }
  return matches;
}

function displayName(name: string | HumanName[] | undefined): string {
  if (typeof name === 'string') return name;
  const first = name?.[0];
  if (!first) return '';
  if (first.text) return first.text;
  const given = (first.given ?? []).join(' ');
  // Chinese names are written family name first, without a space.
  return /[\u4e00-\u9fff]/.test(`${first.family ?? ''}${given}`) ? `${first.family ?? ''}${given}` : [given, first.family].filter(Boolean).join(' ');
}
