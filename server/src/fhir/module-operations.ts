// Extension points through which the modules above the FHIR layer (federation, the internet
// hospital, ...) add what the FHIR layer cannot know about: their `$operations`, listed in the
// CapabilityStatement like the built-in ones, and the links between Patient records that the
// master patient index keeps (so that a golden Patient's searches cover its linked records).
import type { Actor } from './access/access-control.js';
import type { Interaction, InteractionContext, InteractionResult, Method } from './interactions.js';
import type { SearchRequest } from './search/model.js';
import type { FhirRepository } from './repository.js';
import type { Resource } from '@medplum/fhirtypes';

export interface ModuleOperation {
  /** With the `$`, e.g. `$ingest`. */
  name: string;
  level: 'system' | 'type' | 'instance';
  /** For type- and instance-level operations. */
  type?: string;
  methods: Method[];
  /** Canonical URL of its OperationDefinition. */
  definition: string;
  handle(ctx: InteractionContext, req: Interaction, target: { type?: string; id?: string }): Promise<InteractionResult>;
}

export class OperationRegistry {
  private readonly operations: ModuleOperation[] = [];

  add(...operations: ModuleOperation[]): this {
    this.operations.push(...operations);
    return this;
  }

  find(level: ModuleOperation['level'], type: string | undefined, name: string): ModuleOperation | undefined {
    return this.operations.find((op) => op.level === level && op.name === name && (level === 'system' || op.type === type));
  }

  /** For the CapabilityStatement: system-level ones (type undefined) or those of a type. */
  listed(type?: string): { name: string; definition: string }[] {
    return this.operations
      .filter((op) => (type === undefined ? op.level === 'system' : op.type === type))
      .map((op) => ({ name: op.name.slice(1), definition: op.definition }));
  }
}

/**
 * A module's rule on REST writes of resources it owns (e.g. reading reports change only through
 * the reporting API, where they are signed): throws (Forbidden, Invalid, Conflict) to refuse the
 * write. Runs inside the write's transaction, with the stored version before and the one after,
 * and who writes (`actor`: e.g. only a doctor drafts a prescription, IH-06). A rule that reads
 * must read through `repo`, the write's own transaction: on the embedded database a read outside
 * it waits for the transaction, which waits for the rule.
 */
export type WriteRule = (
  kind: 'create' | 'update' | 'patch' | 'delete',
  write: { type: string; previous?: Resource; next?: Resource; actor?: Actor; repo?: FhirRepository },
) => void | Promise<void>;

/** The master patient index's links, as search needs them. */
export interface PatientLinks {
  /** For each id given that is a golden record: the source Patients linked to it. */
  members(ids: readonly string[]): Promise<Map<string, string[]>>;
}

/**
 * `patient=Patient/<golden>` (and `subject=`, `Patient/<golden>/Observation`, ...) also matches
 * the golden record's linked source Patients: the longitudinal record is theirs together.
 */
export async function expandGoldenPatients(links: PatientLinks | undefined, request: SearchRequest): Promise<void> {
  if (!links) return;
  const filters = request.filters.filter((f) => f.kind === 'value' && f.param.type === 'reference' && f.param.targets.includes('Patient'));
  const named = (value: string, bare: boolean) => (value.startsWith('Patient/') ? value.slice('Patient/'.length) : bare ? value : undefined);
  const ids = new Set<string>();
  for (const f of filters) {
    if (f.kind !== 'value' || (f.modifier && f.modifier !== 'Patient')) continue;
    const bare = f.modifier === 'Patient' || f.param.targets.length === 1;
    for (const v of f.values) {
      const id = named(v, bare);
      if (id) ids.add(id);
    }
  }
  if (!ids.size) return;
  const members = await links.members([...ids]);
  if (!members.size) return;
  for (const f of filters) {
    if (f.kind !== 'value' || (f.modifier && f.modifier !== 'Patient')) continue;
    const bare = f.modifier === 'Patient' || f.param.targets.length === 1;
    f.values = f.values.flatMap((v) => {
      const id = named(v, bare);
      const linked = id ? members.get(id) : undefined;
      return linked ? [v, ...linked.map((m) => (v.startsWith('Patient/') ? `Patient/${m}` : m))] : [v];
    });
  }
}
