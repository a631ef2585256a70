// The pure parts of e-prescriptions: special-control drug classes (IH-07, ATC prefix match), the
// age that decides whether a guardian must be present (IH-07, partial birth dates), doctors'
// public keys and compact JWS (IH-05), and the write rule on plain FHIR writes (IH-06).
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import type { MedicationRequest, Task } from '@medplum/fhirtypes';
import { FhirError } from '../../server/src/fhir/errors.js';
import { DEFAULT_RULES } from '../../server/src/hospital/rules.js';
import { PRESCRIPTION_TAG, REVIEW_TASK } from '../../server/src/hospital/prescriptions/codes.js';
import { inClass, medicationConcepts, specialControlClass } from '../../server/src/hospital/prescriptions/drug-classes.js';
import { parseJws, prescriptionClaims, verifyJws } from '../../server/src/hospital/prescriptions/jws.js';
import { needsGuardian, youngestAge } from '../../server/src/hospital/prescriptions/patient-age.js';
import { checkPublicJwk } from '../../server/src/hospital/prescriptions/signing-keys.js';
import { prescriptionWriteRule } from '../../server/src/hospital/prescriptions/write-rule.js';

const ATC = 'http://www.whocc.no/atc';

function compactJws(key: KeyObject, alg: 'ES256' | 'RS256', claims: object, header: object = {}): string {
  const h = Buffer.from(JSON.stringify({ alg, ...header })).toString('base64url');
  const p = Buffer.from(JSON.stringify(claims)).toString('base64url');
  const input = Buffer.from(`${h}.${p}`);
  const signature = alg === 'ES256' ? sign('sha256', input, { key, dsaEncoding: 'ieee-p1363' }) : sign('sha256', input, key);
  return `${h}.${p}.${signature.toString('base64url')}`;
}

function statusOf(fn: () => void): number | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    return err instanceof FhirError ? err.status : -1;
  }
}

describe('special-control drug classes', () => {
  it('IH-07: an ATC code is in its class and in every class above it, not in a sibling class', () => {
    expect(inClass(ATC, 'N02AA01', `${ATC}|N02A`)).toBe(true); // morphine: opioids
    expect(inClass(ATC, 'n02aa01', `${ATC}|N02A`)).toBe(true);
    expect(inClass(ATC, 'N02A', `${ATC}|N02A`)).toBe(true);
    expect(inClass(ATC, 'N02BE01', `${ATC}|N02A`)).toBe(false); // paracetamol: other analgesics
    expect(inClass('urn:oid:2.16.156.10011.2.3.3', 'N02AA01', `${ATC}|N02A`)).toBe(false); // same code, other system
  });

  it('IH-07: other code systems match exactly; the list is whatever the rules say', () => {
    const classes = ['https://drugs.example.cn|X-1'];
    expect(inClass('https://drugs.example.cn', 'X-1', classes[0])).toBe(true);
    expect(inClass('https://drugs.example.cn', 'X-10', classes[0])).toBe(false);
    expect(specialControlClass([{ coding: [{ system: ATC, code: 'N02AA01' }] }], classes)).toBeUndefined();
    expect(specialControlClass([{ coding: [{ system: ATC, code: 'C09AA02' }, { system: 'https://drugs.example.cn', code: 'X-1' }] }], classes)).toEqual({ drugClass: classes[0], coding: 'https://drugs.example.cn|X-1' });
  });

  it('IH-07: the default list covers opioids, hypnotics, anxiolytics and psychostimulants; a Medication counts with its ingredients', () => {
    const classes = DEFAULT_RULES.specialControlDrugs;
    for (const code of ['N02AA01', 'N05CD08', 'N05BA01', 'N06BA04', 'N01AH01']) expect(specialControlClass([{ coding: [{ system: ATC, code }] }], classes)).toBeDefined();
    for (const code of ['C09AA02', 'A10BA02', 'N02BE01']) expect(specialControlClass([{ coding: [{ system: ATC, code }] }], classes)).toBeUndefined();
    const request = { resourceType: 'MedicationRequest', status: 'draft', intent: 'order', subject: { reference: 'Patient/1' }, medicationReference: { reference: 'Medication/m' } } as MedicationRequest;
    const combination = { resourceType: 'Medication' as const, code: { text: '复方' }, ingredient: [{ itemCodeableConcept: { coding: [{ system: ATC, code: 'R05DA04' }] } }, { itemCodeableConcept: { coding: [{ system: ATC, code: 'N02AA59' }] } }] };
    expect(specialControlClass(medicationConcepts(request, combination), classes)?.coding).toBe(`${ATC}|N02AA59`);
  });
});

describe('age for the guardian rule', () => {
  it('IH-07: whole years, the birthday itself counting', () => {
    expect(youngestAge('2020-06-15', new Date('2026-06-14T12:00:00Z'))).toBe(5);
    expect(youngestAge('2020-06-15', new Date('2026-06-15T00:00:00Z'))).toBe(6);
    expect(needsGuardian('2020-06-15', 6, new Date('2026-06-14T12:00:00Z'))).toBe(true);
    expect(needsGuardian('2020-06-15', 6, new Date('2026-06-15T12:00:00Z'))).toBe(false);
    expect(needsGuardian('1960-04-12', 6, new Date())).toBe(false);
  });

  it('IH-07: a partial birth date counts as its last possible day (the youngest the child can be)', () => {
    expect(youngestAge('2020', new Date('2026-06-01T00:00:00Z'))).toBe(5);
    expect(youngestAge('2020', new Date('2026-12-31T00:00:00Z'))).toBe(6);
    expect(youngestAge('2020-02', new Date('2026-02-28T00:00:00Z'))).toBe(5); // 2020-02-29 is the last day
    expect(youngestAge('2020-02', new Date('2026-03-01T00:00:00Z'))).toBe(6);
    expect(() => youngestAge('soon', new Date())).toThrow();
  });
});

describe("doctors' keys and signatures", () => {
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });

  it('IH-05: a public JWK is accepted with its algorithm and RFC 7638 thumbprint; private keys never', () => {
    // RFC 7638 section 3.1's example key and thumbprint.
    const example = {
      kty: 'RSA',
      n: '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw',
      e: 'AQAB',
    };
    expect(checkPublicJwk(example)).toMatchObject({ alg: 'RS256', kid: 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs' });
    expect(checkPublicJwk(ec.publicKey.export({ format: 'jwk' })).alg).toBe('ES256');
    expect(statusOf(() => checkPublicJwk(ec.privateKey.export({ format: 'jwk' })))).toBe(400);
    expect(statusOf(() => checkPublicJwk(rsa.privateKey.export({ format: 'jwk' })))).toBe(400);
    expect(statusOf(() => checkPublicJwk(generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey.export({ format: 'jwk' })))).toBe(400);
    expect(statusOf(() => checkPublicJwk(generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'jwk' })))).toBe(400);
    expect(statusOf(() => checkPublicJwk({ kty: 'oct', k: 'c2VjcmV0' }))).toBe(400);
    expect(statusOf(() => checkPublicJwk({ ...ec.publicKey.export({ format: 'jwk' }), alg: 'RS256' }))).toBe(400);
    expect(statusOf(() => checkPublicJwk('not a key'))).toBe(400);
  });

  it('IH-05: a compact JWS verifies only with its key and its key\'s algorithm, and names its claims', () => {
    const claims = { sub: 'Practitioner/1', target: 'MedicationRequest/2/_history/1', sha256: 'a'.repeat(64), iat: 1 };
    const es = parseJws(compactJws(ec.privateKey, 'ES256', claims));
    expect(verifyJws(es, ec.publicKey, 'ES256')).toBe(true);
    expect(verifyJws(es, rsa.publicKey, 'RS256')).toBe(false);
    expect(verifyJws(es, generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey, 'ES256')).toBe(false);
    expect(prescriptionClaims(es.claims)).toEqual(claims);
    const rs = parseJws(compactJws(rsa.privateKey, 'RS256', claims));
    expect(verifyJws(rs, rsa.publicKey, 'RS256')).toBe(true);
    // The header cannot bring its own key or choose another algorithm.
    expect(verifyJws(parseJws(compactJws(ec.privateKey, 'ES256', claims, { jwk: ec.publicKey.export({ format: 'jwk' }) })), ec.publicKey, 'ES256')).toBe(false);
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.x`;
    expect(verifyJws(parseJws(none), ec.publicKey, 'ES256')).toBe(false);
    // Altering the payload breaks the signature.
    const [h, , s] = compactJws(ec.privateKey, 'ES256', claims).split('.');
    const altered = `${h}.${Buffer.from(JSON.stringify({ ...claims, sha256: 'b'.repeat(64) })).toString('base64url')}.${s}`;
    expect(verifyJws(parseJws(altered), ec.publicKey, 'ES256')).toBe(false);
    for (const bad of ['', 'a.b', 'a.b.c.d', '!!.b.c', `${Buffer.from('[1]').toString('base64url')}.e30.c`]) expect(statusOf(() => parseJws(bad))).toBe(400);
    expect(statusOf(() => prescriptionClaims({ ...claims, sha256: 'xyz' }))).toBe(400);
    expect(statusOf(() => prescriptionClaims({ ...claims, iat: 'now' }))).toBe(400);
  });
});

describe('the write rule on plain FHIR writes', () => {
  const rule = prescriptionWriteRule(DEFAULT_RULES);
  const draft: MedicationRequest = {
    resourceType: 'MedicationRequest',
    status: 'draft',
    intent: 'order',
    subject: { reference: 'Patient/p' },
    requester: { reference: 'Practitioner/d' },
    medicationCodeableConcept: { coding: [{ system: ATC, code: 'C09AA02' }] },
  };
  const doctor = { role: 'doctor', user: 'Practitioner/d' };
  const write = (kind: 'create' | 'update' | 'delete', actor: object | undefined, next?: object, previous?: object) =>
    statusOf(() => void rule(kind, { type: (next ?? previous) && ((next ?? previous) as { resourceType: string }).resourceType, next, previous, actor } as never));

  it('IH-06: a doctor drafts, edits and deletes their own drafts only', () => {
    expect(write('create', doctor, draft)).toBeUndefined();
    expect(write('update', doctor, { ...draft, note: [{ text: 'x' }] }, draft)).toBeUndefined();
    expect(write('delete', doctor, undefined, draft)).toBeUndefined();
    expect(write('create', doctor, { ...draft, status: 'active' })).toBe(422);
    expect(write('update', doctor, { ...draft, status: 'active' }, draft)).toBe(422);
    expect(write('create', doctor, { ...draft, requester: { reference: 'Practitioner/other' } })).toBe(403);
    expect(write('create', { role: 'doctor', user: 'Practitioner/other' }, draft)).toBe(403);
    expect(write('update', { role: 'doctor', user: 'Practitioner/other' }, { ...draft, requester: { reference: 'Practitioner/other' } }, draft)).toBe(403);
    expect(write('update', doctor, draft, { ...draft, status: 'active' })).toBe(403);
  });

  it('IH-06: residents, apps, nurses and pharmacists write no prescription; record keepers write no draft', () => {
    for (const role of ['resident', 'app', 'nurse', 'pharmacist', 'regulator']) expect(write('create', { role }, draft)).toBe(403);
    expect(write('create', { role: 'app' }, { ...draft, status: 'active' })).toBe(403);
    for (const actor of [{ role: 'admin' }, { role: 'institution' }, undefined]) {
      expect(write('create', actor, draft)).toBe(403);
      expect(write('create', actor, { ...draft, status: 'active' })).toBeUndefined(); // a physical institution's record
    }
    expect(write('create', { role: 'pharmacist' }, { resourceType: 'MedicationDispense', status: 'completed' })).toBe(403);
    expect(write('create', { role: 'institution' }, { resourceType: 'MedicationDispense', status: 'completed' })).toBeUndefined();
  });

  it('IH-06/IH-13: nothing of a signed chain changes by plain writes, whoever writes', () => {
    const signed = { ...draft, status: 'on-hold', meta: { tag: [PRESCRIPTION_TAG] } };
    for (const actor of [doctor, { role: 'admin' }, undefined]) {
      expect(write('update', actor, { ...signed, status: 'active' }, signed)).toBe(403);
      expect(write('delete', actor, undefined, signed)).toBe(403);
    }
    const review: Task = { resourceType: 'Task', status: 'requested', intent: 'order', code: { coding: [REVIEW_TASK] } };
    expect(write('update', { role: 'pharmacist' }, { ...review, status: 'completed' }, review)).toBe(403);
    expect(write('create', { role: 'admin' }, review)).toBe(403);
  });

  it('IH-07: a special-control drug is refused at drafting, also inside a contained Medication', () => {
    expect(write('create', doctor, { ...draft, medicationCodeableConcept: { coding: [{ system: ATC, code: 'N02AA01' }] } })).toBe(422);
    const contained = {
      ...draft,
      medicationCodeableConcept: undefined,
      contained: [{ resourceType: 'Medication', id: 'm', ingredient: [{ itemCodeableConcept: { coding: [{ system: ATC, code: 'N05BA01' }] } }] }],
      medicationReference: { reference: '#m' },
    };
    expect(write('create', doctor, contained)).toBe(422);
  });
});
