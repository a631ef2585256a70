// Re-checks a prescription's signature at any later time (for $trace, IH-13): the JWS in the
// signing Provenance must verify with the signer's registered key (retired keys still verify what
// they signed), name the signer, and bind the content of the signed version; and the prescription
// as it is now must say what was signed — only the hub-managed status, statusReason and meta may
// have changed since (review, dispensing, delivery).
import type { MedicationRequest, OperationOutcomeIssue, Provenance } from '@medplum/fhirtypes';
import type { SqlExecutor } from '../../db/database.js';
import { contentHash } from '../../fhir/content-hash.js';
import type { FhirRepository } from '../../fhir/repository.js';
import { idOf } from './codes.js';
import { parseJws, prescriptionClaims, verifyJws } from './jws.js';
import { allKeys, keyById } from './signing-keys.js';

/** The hash of what a signature vouches for that later steps must not change. */
export function clinicalHash(request: MedicationRequest): string {
  const { status: _status, statusReason: _reason, meta: _meta, ...clinical } = request;
  return contentHash(clinical as MedicationRequest);
}

/** One issue per finding: information when the signature holds, error when it does not. */
export async function checkSignature(repo: FhirRepository, sql: SqlExecutor, provenance: Provenance, current: MedicationRequest): Promise<OperationOutcomeIssue[]> {
  const signature = provenance.signature?.[0];
  const signer = signature?.who?.reference ?? '';
  const target = provenance.target[0]?.reference ?? '';
  const problem = (diagnostics: string): OperationOutcomeIssue[] => [{ severity: 'error', code: 'security', diagnostics: `IH-05: the signature of ${target} (Provenance/${provenance.id}) does not hold: ${diagnostics}`, expression: [`Provenance/${provenance.id}`] }];
  try {
    const jws = parseJws(Buffer.from(signature?.data ?? '', 'base64').toString('utf8'));
    const claims = prescriptionClaims(jws.claims);
    const kid = typeof jws.header.kid === 'string' ? jws.header.kid : undefined;
    const keys = kid ? [await keyById(sql, kid)].filter((k) => k !== undefined) : await allKeys(sql, signer);
    const key = keys.find((k) => k.practitioner === signer && verifyJws(jws, k.publicKey, k.alg));
    if (!key) return problem(`it does not verify with a key registered to ${signer}`);
    if (claims.sub !== signer) return problem(`it names ${claims.sub} as signer, the Provenance ${signer}`);
    if (claims.target !== target) return problem(`it is over ${claims.target}`);
    if (current.requester?.reference !== signer) return problem(`the signer is not the prescription's requester (${current.requester?.reference ?? 'none'})`);
    const id = idOf(target, 'MedicationRequest');
    const version = target.split('/_history/')[1];
    if (!id || id !== current.id || !version) return problem('it does not name a version of this prescription');
    const signed = (await repo.vread('MedicationRequest', id, version)) as MedicationRequest;
    if (contentHash(signed) !== claims.sha256) return problem('the signed version\'s content differs from what was signed');
    if (clinicalHash(signed) !== clinicalHash(current)) return problem('the prescription has changed since it was signed');
    return [{ severity: 'information', code: 'informational', diagnostics: `IH-05: ${target} was signed by ${signer} on ${signature?.when ?? provenance.recorded} with key ${key.kid} (${key.alg}); the signature verifies and the prescription is unchanged since` }];
  } catch (err) {
    return problem((err as Error).message);
  }
}
