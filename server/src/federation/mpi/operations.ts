// The master patient index over FHIR: IHE PIXm ($ihe-pix, ITI-83), PDQm's $match (ITI-119), and
// the data steward's decisions on the review queue — $mpi-link, $mpi-unlink, $mpi-merge and
// $mpi-undo — each audited and logged so it can be undone.
import type { Bundle, Parameters, ParametersParameter, Patient, Reference } from '@medplum/fhirtypes';
import { allow, audit, requireUnrestricted } from '../../fhir/access/enforce.js';
import { canSee } from '../../fhir/access/access-control.js';
import { isBigintText } from '../../db/database.js';
import { Invalid, NotFound } from '../../fhir/errors.js';
import { isResidentIdSystem, parseResidentId, RESIDENT_ID_SYSTEMS } from '../../fhir/identity/resident-id.js';
import type { InteractionContext } from '../../fhir/interactions.js';
import type { ModuleOperation } from '../../fhir/module-operations.js';
import { parametersOf, referenceParam, stringParam } from '../../fhir/operation-parameters.js';
import { parseSearchRequest } from '../../fhir/search/parse.js';
import type { Federation } from '../federation.js';
import { isGolden } from './golden.js';
import { MATCH_THRESHOLDS } from './match.js';
import { personFromPatient } from './person.js';
import type { Move } from './master-patient-index.js';
import { randomUUID } from 'node:crypto';

const MATCH_GRADE = 'http://hl7.org/fhir/StructureDefinition/match-grade';

export function mpiOperations(federation: Federation): ModuleOperation[] {
  const mpi = federation.mpi;
  const patientOp = (name: string, methods: ModuleOperation['methods'], handle: ModuleOperation['handle']): ModuleOperation => ({
    name, level: 'type', type: 'Patient', methods, definition: `urn:suhe:OperationDefinition/${name.slice(1)}`, handle,
  });
  return [
    {
      ...patientOp('$ihe-pix', ['GET'], async (ctx, req) => {
        allow(ctx, 'search-type', 'Patient');
        const query = new Map(req.query);
        const source = query.get('sourceIdentifier');
        if (!source || !source.includes('|')) throw new Invalid('sourceIdentifier is required as system|value (ITI-83)', ['sourceIdentifier']);
        const targetSystems = req.query.filter(([k]) => k === 'targetSystem').flatMap(([, v]) => v.split(','));
        const found = await patientsWithIdentifier(ctx, source);
        if (!found.length) throw new NotFound(`No patient has the identifier ${source}`);
        const sql = await ctx.repo.sql();
        const goldens = new Set<string>();
        for (const p of found) goldens.add((await mpi.goldenOf(sql, p.id!)) ?? p.id!);
        const members = await mpi.members(sql, [...goldens]);
        const ids = [...new Set([...goldens, ...[...members.values()].flat()])];
        const visible = await ctx.access.visiblePatients();
        if (!canSee(visible, ids)) throw new NotFound(`No patient has the identifier ${source}`);
        const patients = await readPatients(ctx, ids);
        const parameter: ParametersParameter[] = [];
        const seen = new Set<string>([normalisedKey(source)]);
        for (const p of patients) {
          for (const id of p.identifier ?? []) {
            if (!id.system || !id.value) continue;
            const key = normalisedKey(`${id.system}|${id.value}`);
            if (seen.has(key) || (targetSystems.length && !targetSystems.some((t) => sameSystem(t, id.system!)))) continue;
            seen.add(key);
            parameter.push({ name: 'targetIdentifier', valueIdentifier: { system: id.system, value: id.value, ...(id.use ? { use: id.use } : {}) } });
          }
        }
        if (!targetSystems.length) for (const p of patients) parameter.push({ name: 'targetId', valueReference: { reference: `Patient/${p.id}` } });
        audit(ctx, { kind: 'operation', type: 'Patient', outcome: 'success', patients: ids, query: `$ihe-pix sourceIdentifier=${source}` });
        return { status: 200, resource: { resourceType: 'Parameters', parameter } as Parameters };
      }),
    },
    {
      ...patientOp('$match', ['POST'], async (ctx, req) => {
        allow(ctx, 'search-type', 'Patient');
        const input = req.body as Parameters;
        const patient = (input?.resourceType === 'Parameters' ? input.parameter?.find((p) => p.name === 'resource')?.resource : input) as Patient | undefined;
        if (!patient || patient.resourceType !== 'Patient') throw new Invalid('$match takes Parameters with a Patient in parameter "resource" (ITI-119)', ['Parameters.parameter']);
        const onlyCertain = input.parameter?.find((p) => p.name === 'onlyCertainMatches')?.valueBoolean === true;
        const count = Math.min(50, Math.max(1, input.parameter?.find((p) => p.name === 'count')?.valueInteger ?? 10));
        const record = personFromPatient(patient);
        const sql = await ctx.repo.sql();
        let candidates = (await mpi.candidates(sql, record)).filter((c) => c.result.deterministic || c.result.score >= MATCH_THRESHOLDS.review);
        if (onlyCertain) candidates = candidates.filter((c) => c.result.grade === 'certain');
        const visible = await ctx.access.visiblePatients();
        const members = await mpi.members(sql, candidates.map((c) => c.goldenId));
        candidates = candidates.filter((c) => canSee(visible, [c.goldenId, ...(members.get(c.goldenId) ?? [])])).slice(0, count);
        const goldens = await readPatients(ctx, candidates.map((c) => c.goldenId));
        const byId = new Map(goldens.map((g) => [g.id!, g]));
        const bundle: Bundle = {
          resourceType: 'Bundle',
          type: 'searchset',
          total: candidates.length,
          entry: candidates.filter((c) => byId.has(c.goldenId)).map((c) => ({
            fullUrl: `${ctx.base}/Patient/${c.goldenId}`,
            resource: byId.get(c.goldenId)!,
            search: {
              mode: 'match',
              score: scoreOf(c.result.score, c.result.deterministic),
              extension: [{ url: MATCH_GRADE, valueCode: c.result.grade }],
            },
          })),
        };
        audit(ctx, { kind: 'operation', type: 'Patient', outcome: 'success', patients: candidates.map((c) => c.goldenId), query: '$match' });
        return { status: 200, resource: bundle };
      }),
    },
    patientOp('$mpi-link', ['POST'], async (ctx, req) => {
      const params = parametersOf(req.body);
      const patient = referenceParam(params, 'patient', 'Patient', { bareId: true });
      const golden = referenceParam(params, 'golden', 'Patient', { bareId: true });
      return decide(ctx, federation, '$mpi-link', async (sql) => {
        if (!(await mpi.members(sql, [golden])).has(golden) && !(await isGoldenId(ctx, golden))) throw new Invalid(`Patient/${golden} is not a golden record`, ['golden']);
        return { moves: [{ patientId: patient, to: golden }], reason: stringParam(params, 'reason') };
      });
    }),
    patientOp('$mpi-unlink', ['POST'], async (ctx, req) => {
      const params = parametersOf(req.body);
      const patient = referenceParam(params, 'patient', 'Patient', { bareId: true });
      return decide(ctx, federation, '$mpi-unlink', async () => ({ moves: [{ patientId: patient, to: randomUUID() }], reason: stringParam(params, 'reason') }));
    }),
    patientOp('$mpi-merge', ['POST'], async (ctx, req) => {
      const params = parametersOf(req.body);
      const from = referenceParam(params, 'source', 'Patient', { bareId: true });
      const into = referenceParam(params, 'target', 'Patient', { bareId: true });
      if (from === into) throw new Invalid('source and target are the same golden record');
      return decide(ctx, federation, '$mpi-merge', async (sql) => {
        const members = await mpi.members(sql, [from, into]);
        if (!members.get(from)?.length) throw new Invalid(`Patient/${from} is not a golden record with linked patients`, ['source']);
        if (!members.get(into)?.length) throw new Invalid(`Patient/${into} is not a golden record with linked patients`, ['target']);
        return { moves: members.get(from)!.map((patientId) => ({ patientId, to: into })), reason: stringParam(params, 'reason'), replacedBy: new Map([[from, into]]) };
      });
    }),
    patientOp('$mpi-undo', ['POST'], async (ctx, req) => {
      const params = parametersOf(req.body);
      const action = stringParam(params, 'action');
      if (!action || !isBigintText(action)) throw new Invalid('$mpi-undo needs parameter "action": the action id a decision returned', ['action']);
      return decide(ctx, federation, '$mpi-undo', async (sql) => ({ moves: await mpi.undoMoves(sql, action), reason: stringParam(params, 'reason'), undoes: action }));
    }),
  ];
}

/** Runs a steward's decision in one transaction with its AuditEvent; answers the action id to undo it with. */
async function decide(
  ctx: InteractionContext,
  federation: Federation,
  action: string,
  plan: (sql: Awaited<ReturnType<InteractionContext['repo']['sql']>>) => Promise<{ moves: Move[]; reason?: string; replacedBy?: Map<string, string>; undoes?: string }>,
) {
  await requireUnrestricted(ctx, 'update', 'Patient');
  const actor = ctx.access.actor.user ?? ctx.access.actor.clientId ?? 'unknown';
  const { actionId, patients } = await ctx.repo.transaction(async (tx) => {
    const sql = await tx.sql();
    const { moves, reason, replacedBy, undoes } = await plan(sql);
    const done = await federation.mpi.move(tx, action, moves, actor, reason, replacedBy);
    if (undoes) await federation.mpi.markUndone(sql, undoes, done.actionId);
    await tx.updateMany(done.resources, { trusted: true });
    const touched = [...new Set(moves.flatMap((m) => [m.patientId, m.to, ...(m.from ? [m.from] : [])]))];
    if (ctx.audit) {
      await ctx.audit.writeIn(tx, ctx.access.actor, { kind: 'operation', type: 'Patient', outcome: 'success', patients: touched, query: `${action} action=${done.actionId}${reason ? ` reason=${reason}` : ''}` });
    }
    return { actionId: done.actionId, patients: touched };
  });
  const parameter: ParametersParameter[] = [
    { name: 'action', valueString: actionId },
    ...patients.map((p) => ({ name: 'patient', valueReference: { reference: `Patient/${p}` } as Reference })),
  ];
  return { status: 200, resource: { resourceType: 'Parameters', parameter } as Parameters };
}


async function isGoldenId(ctx: InteractionContext, id: string): Promise<boolean> {
  const patient = (await ctx.repo.read('Patient', id).catch(() => undefined)) as Patient | undefined;
  return !!patient && isGolden(patient);
}

/** ID-02: both OIDs of the resident ID number name one identifier, and a 15-digit number its 18-digit form. */
async function patientsWithIdentifier(ctx: InteractionContext, systemValue: string): Promise<Patient[]> {
  const [system, value] = [systemValue.slice(0, systemValue.indexOf('|')), systemValue.slice(systemValue.indexOf('|') + 1)];
  let alternatives = [`${system}|${value}`];
  if (isResidentIdSystem(system)) {
    const parsed = parseResidentId(value);
    const values = parsed.ok ? [...new Set([value, parsed.normalized])] : [value];
    alternatives = RESIDENT_ID_SYSTEMS.flatMap((s) => values.map((v) => `${s}|${v}`));
  }
  const request = parseSearchRequest('Patient', [['identifier', alternatives.map((a) => a.replace(/,/g, '\\,')).join(',')]], ctx.repo.registry, { defaultCount: 100, maxCount: 100, defaultTotal: 'none' });
  return (await ctx.repo.search(request)).resources as Patient[];
}

async function readPatients(ctx: InteractionContext, ids: string[]): Promise<Patient[]> {
  if (!ids.length) return [];
  const request = parseSearchRequest('Patient', [['_id', ids.join(',')]], ctx.repo.registry, { defaultCount: 1000, maxCount: 1000, defaultTotal: 'none' });
  return (await ctx.repo.search(request)).resources as Patient[];
}

function normalisedKey(systemValue: string): string {
  const [system, value] = [systemValue.slice(0, systemValue.indexOf('|')), systemValue.slice(systemValue.indexOf('|') + 1)];
  if (!isResidentIdSystem(system)) return systemValue;
  const parsed = parseResidentId(value);
  return `resident-id|${parsed.ok ? parsed.normalized : value}`;
}

function sameSystem(wanted: string, system: string): boolean {
  return wanted === system || (isResidentIdSystem(wanted) && isResidentIdSystem(system));
}

/** A 0..1 score for Bundle.entry.search.score: 1 for certain, the review threshold at 0.5. */
function scoreOf(score: number, deterministic: boolean): number {
  if (deterministic) return 1;
  const scaled = 1 / (1 + Math.exp(-(score - MATCH_THRESHOLDS.review) / Math.max(1, (MATCH_THRESHOLDS.autoLink - MATCH_THRESHOLDS.review) / 2)));
  return Math.round(Math.min(0.99, scaled) * 1000) / 1000;
}
