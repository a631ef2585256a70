// `suhe import FILE|DIR`: loads FHIR Bundles (.json) and NDJSON files (.ndjson) with a progress line.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import type { Hub } from '../app.js';
import { processBundle } from '../fhir/bundle/process.js';
import { FhirError } from '../fhir/errors.js';
import { executeInteraction } from '../fhir/interactions.js';

export interface ImportSummary {
  files: number;
  resources: number;
  failures: { file: string; message: string }[];
}

export function listImportFiles(target: string): string[] {
  if (!statSync(target).isDirectory()) return [target];
  return readdirSync(target, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.json') || f.endsWith('.ndjson'))
    .sort(loadOrder)
    .map((f) => join(target, f));
}

/** Shared reference data (hospitals, practitioners) before the patients that point at it. */
function loadOrder(a: string, b: string): number {
  const rank = (f: string) => (/hospitalInformation|practitionerInformation|organization|practitioner/i.test(f) ? 0 : 1);
  return rank(a) - rank(b) || a.localeCompare(b);
}

export async function importFiles(hub: Hub, target: string, say: (line: string) => void): Promise<ImportSummary> {
  const files = listImportFiles(target);
  const summary: ImportSummary = { files: files.length, resources: 0, failures: [] };
  const context = hub.context(hub.config.publicBaseUrl ?? 'urn:suhe:import');
  const started = Date.now();
  for (const [n, file] of files.entries()) {
    try {
      summary.resources += file.endsWith('.ndjson') ? await importNdjson(context, file) : await importJson(context, file);
    } catch (err) {
      if (!(err instanceof FhirError) && !(err instanceof SyntaxError)) throw err;
      summary.failures.push({ file, message: err.message });
    }
    const seconds = (Date.now() - started) / 1000;
    say(`[${n + 1}/${files.length}] ${summary.resources} resources, ${Math.round(summary.resources / Math.max(seconds, 0.001))}/s, ${summary.failures.length} files failed`);
  }
  return summary;
}

async function importJson(context: ReturnType<Hub['context']>, file: string): Promise<number> {
  const resource = JSON.parse(readFileSync(file, 'utf8')) as Resource;
  if (resource.resourceType === 'Bundle' && (resource.type === 'transaction' || resource.type === 'batch')) {
    await processBundle(context, resource);
    return resource.entry?.length ?? 0;
  }
  if (resource.resourceType === 'Bundle') {
    // A collection or searchset: store each entry as it is.
    const entries = (resource as Bundle).entry ?? [];
    for (const entry of entries) if (entry.resource) await storeOne(context, entry.resource);
    return entries.length;
  }
  await storeOne(context, resource);
  return 1;
}

async function importNdjson(context: ReturnType<Hub['context']>, file: string): Promise<number> {
  let count = 0;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    await storeOne(context, JSON.parse(line) as Resource);
    count++;
  }
  return count;
}

/** Keeps the source's id when it has one (PUT), so re-importing the same file is idempotent. */
async function storeOne(context: ReturnType<Hub['context']>, resource: Resource): Promise<void> {
  if (resource.id) await executeInteraction(context, { method: 'PUT', path: [resource.resourceType, resource.id], query: [], body: resource });
  else await executeInteraction(context, { method: 'POST', path: [resource.resourceType], query: [], body: resource });
}
