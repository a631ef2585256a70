// `POST /fhir/Practitioner/{id}/$register-signing-key` (IH-05, IH-08): a doctor registers the
// public key of the key pair their own device made; prescriptions they sign verify against it.
// Only the doctor themself, signed in as that Practitioner and eligible to practise online
// (IH-08/09), registers their key — an administrator cannot give a doctor a key, so no one signs
// in a doctor's name. Input: Parameters `key` = the public JWK (valueString with its JSON, or a
// valueAttachment of type application/jwk+json). Output: Parameters kid, alg, retired (how many
// earlier keys stopped signing).
import type { ParametersParameter } from '@medplum/fhirtypes';
import { Forbidden, Invalid } from '../../fhir/errors.js';
import type { ModuleOperation } from '../../fhir/module-operations.js';
import { eligibleClinician } from '../eligibility.js';
import type { HospitalDeps } from '../index.js';
import { allowAll, ok, params, prescriptionOperation, storeAudit } from './operation-support.js';
import { checkPublicJwk, registerKey } from './signing-keys.js';

export function registerKeyOperation(deps: HospitalDeps): ModuleOperation {
  return prescriptionOperation(deps, { name: '$register-signing-key', level: 'instance', type: 'Practitioner', methods: ['POST'] }, async (ctx, req, target, state) => {
    allowAll(ctx, state, [['operation', 'Practitioner']]);
    const practitioner = `Practitioner/${target.id}`;
    if (ctx.access.actor.user !== practitioner) throw new Forbidden(`IH-08: only ${practitioner} themself registers their signing key; nobody sets up a doctor's signature for them`);
    const key = checkPublicJwk(jwkParam(params(req.body, '$register-signing-key')));
    await eligibleClinician(deps, ctx.access.actor, 'doctor');
    const registered = await ctx.repo.transaction(async (tx) => {
      const done = await registerKey(await tx.sql(), practitioner, key);
      await storeAudit(ctx, tx, { type: 'Practitioner', id: target.id, patients: [], query: '$register-signing-key', detail: `signing key ${done.kid} (${done.alg}) registered; ${done.retired} earlier key(s) retired` });
      return done;
    });
    return ok([
      { name: 'kid', valueString: registered.kid },
      { name: 'alg', valueCode: registered.alg },
      { name: 'retired', valueInteger: registered.retired },
    ]);
  });
}

function jwkParam(list: ParametersParameter[]): unknown {
  const p = list.find((x) => x.name === 'key');
  if (!p) throw new Invalid('Parameter "key" (the public JWK) is required', ['key']);
  let text: string | undefined;
  if (p.valueString !== undefined) text = p.valueString;
  else if (p.valueAttachment?.data && (!p.valueAttachment.contentType || /^application\/(jwk\+)?json/.test(p.valueAttachment.contentType))) {
    text = Buffer.from(p.valueAttachment.data, 'base64').toString('utf8');
  }
  if (text === undefined) throw new Invalid('Parameter "key" must be a valueString holding the JWK as JSON, or a valueAttachment (application/jwk+json)', ['key']);
  try {
    return JSON.parse(text);
  } catch {
    throw new Invalid('Parameter "key" is not JSON', ['key']);
  }
}
