// The hub's internet hospital API as these pages use it: FHIR searches (Bundles) and the
// $operations, each taking a Parameters body. A refusal keeps the hub's own text
// (OperationOutcome diagnostics, e.g. "IH-01/IH-02: online visits are follow-ups only …").
import type { AppContext } from '../app-context.js';
import { HttpError } from '../dicomweb/http.js';

export interface FhirResource {
  resourceType: string;
  id?: string;
  [key: string]: unknown;
}

export interface SearchResult<T> {
  matches: T[];
  /** _include'd resources, by "Type/id". */
  included: Map<string, FhirResource>;
}

export type Parameter = { name: string; [value: string]: unknown };

const FHIR_JSON = 'application/fhir+json';

/** GET {fhirBase}/{query}: the matches and the included resources. */
export async function search<T extends FhirResource>(app: AppContext, query: string): Promise<SearchResult<T>> {
  const bundle = await app.client.json<{ entry?: { resource?: FhirResource; search?: { mode?: string } }[] }>(`${app.hub.fhirBase}/${query}`, { accept: FHIR_JSON });
  const matches: T[] = [];
  const included = new Map<string, FhirResource>();
  for (const entry of bundle.entry ?? []) {
    if (!entry.resource) continue;
    if (entry.search?.mode === 'include') included.set(`${entry.resource.resourceType}/${entry.resource.id}`, entry.resource);
    else matches.push(entry.resource as T);
  }
  return { matches, included };
}

/** GET one resource by "Type/id". */
export function read<T extends FhirResource>(app: AppContext, reference: string): Promise<T> {
  return app.client.json<T>(`${app.hub.fhirBase}/${reference}`, { accept: FHIR_JSON });
}

/** POST {fhirBase}/{path} with a Parameters body; answers the resource the hub returns. */
export async function operation<T>(app: AppContext, path: string, parameter: Parameter[]): Promise<T> {
  const res = await app.client.request(`${app.hub.fhirBase}/${path}`, {
    method: 'POST',
    accept: FHIR_JSON,
    contentType: FHIR_JSON,
    json: { resourceType: 'Parameters', parameter },
  });
  return (await res.json()) as T;
}

/** True when the hub answered (4xx): its text is the reason to show, as it is. */
export function isRefusal(err: unknown): err is HttpError {
  return err instanceof HttpError && err.status >= 400 && err.status < 500;
}
