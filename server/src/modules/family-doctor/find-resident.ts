// `GET /fhir/Patient/$find-for-contract?identifier=<system>|<value>` (FD-02): a resident who comes
// to the community centre to sign with a family doctor shows their ID card; the doctor (or a nurse)
// of the centre finds their record by that exact number — though no care relationship lets them
// see it yet — to record the contract ($sign-contract with the signed form). Only an exact,
// complete identifier matches (no partial search, no listing), the answer is the minimum to confirm
// the person (reference, name, gender, birth year), and every lookup is audited with the patient.
import type { Organization, ParametersParameter, Patient, PractitionerRole } from '@medplum/fhirtypes';
import { audit } from '../../fhir/access/enforce.js';
import { Forbidden, Invalid } from '../../fhir/errors.js';
import type { ModuleOperation } from '../../fhir/module-operations.js';
import { hasCoding } from './care-codes.js';
import { COMMUNITY_CENTRE, INSTITUTION_CATEGORY } from './contract-codes.js';
import { searchAll } from '../../fhir/search/search-all.js';
import type { FamilyDoctorDeps } from './family-doctor-deps.js';

const NAME = '$find-for-contract';

export function findForContractOperation(deps: FamilyDoctorDeps): ModuleOperation {
  return {
    name: NAME,
    level: 'type',
    type: 'Patient',
    methods: ['GET'],
    definition: 'https://suhe.example.cn/fhir/OperationDefinition/Patient-find-for-contract',
    async handle(ctx, req) {
      const { role, user } = ctx.access.actor;
      if ((role !== 'doctor' && role !== 'nurse') || !user?.startsWith('Practitioner/')) throw new Forbidden('FD-02: staff of a community health centre look a resident up to sign a contract');
      const roles = await searchAll<PractitionerRole>(deps.repo, 'PractitionerRole', [['practitioner', user]]);
      const orgs = await Promise.all(roles.filter((r) => r.active !== false && r.organization?.reference).map((r) => deps.repo.read('Organization', r.organization!.reference!.split('/')[1]).catch(() => undefined)));
      if (!orgs.some((o) => (o as Organization | undefined)?.type?.some((t) => hasCoding(t, INSTITUTION_CATEGORY, COMMUNITY_CENTRE)))) {
        throw new Forbidden('FD-02: only staff of a community health centre look residents up to sign them');
      }
      const identifier = new Map(req.query).get('identifier') ?? '';
      const [system, value] = identifier.split('|');
      if (!system || !value || identifier.split('|').length !== 2 || /[,*]/.test(identifier)) throw new Invalid('identifier is the exact <system>|<number> of the ID document the resident shows', ['identifier']);
      const matches = await searchAll<Patient>(deps.repo, 'Patient', [['identifier', `${system}|${value}`]]);
      const found = matches.filter((p) => p.active !== false);
      audit(ctx, { kind: 'operation', type: 'Patient', outcome: 'success', patients: found.map((p) => p.id!), query: NAME, detail: 'identified in person by ID document to sign a family-doctor contract' });
      const name = (p: Patient) => p.name?.[0]?.text ?? [p.name?.[0]?.family, ...(p.name?.[0]?.given ?? [])].filter(Boolean).join('');
      const parameter: ParametersParameter[] = found.map((p) => ({
        name: 'patient',
        part: [
          { name: 'patient', valueReference: { reference: `Patient/${p.id}`, display: name(p) } },
          ...(p.gender ? [{ name: 'gender', valueCode: p.gender }] : []),
          ...(p.birthDate ? [{ name: 'birthYear', valueInteger: Number(p.birthDate.slice(0, 4)) }] : []),
        ],
      }));
      return { status: 200, resource: { resourceType: 'Parameters', parameter } };
    },
  };
}
