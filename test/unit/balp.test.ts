// BALP AuditEvents: per action the coded shape (type, subtype, action, agent and entity types),
// validity against the base R4 definitions (@medplum/core and our own validator), and that no
// credential ever ends up in the resource.
import { beforeAll, describe, expect, it } from '@jest/globals';
import { validateResource } from '@medplum/core';
import type { AuditEvent, AuditEventAgent, Coding } from '@medplum/fhirtypes';
import { auditPatients, buildAuditEvent, type AuditAction, type AuditInput } from '../../server/src/audit/balp.js';
import { loadR4Definitions } from '../../server/src/fhir/definitions.js';
import { validateBase } from '../../server/src/fhir/validator/base-validator.js';

const FAKE_TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJGQUtFIn0.FAKE-SIGNATURE-abcdefghijklmnopqrstuvwxyz0123456789';
const DCM = 'http://dicom.nema.org/resources/ontology/DCM';

const base: AuditInput = {
  action: 'read',
  outcome: 'success',
  recorded: '2026-03-01T08:00:00.000Z',
  observer: { display: 'Suhe hub', base: 'https://hub.example.cn/fhir' },
  client: { id: 'app-1', display: 'Ward app', address: '10.1.2.3' },
  user: { reference: 'Practitioner/1', display: 'Dr Li', role: 'doctor' },
  tokenId: 'jti-123',
  requestId: 'req-42',
};

function ev(over: Partial<AuditInput>): AuditEvent {
  return buildAuditEvent({ ...base, ...over });
}
const code = (c: Coding | undefined): string | undefined => c?.code;
const agentCodes = (a: AuditEventAgent): (string | undefined)[] => (a.type?.coding ?? []).map(code);
const byWho = (e: AuditEvent) => ({
  user: e.agent.find((a) => a.who?.reference === 'Practitioner/1'),
  client: e.agent.find((a) => a.who?.identifier?.system === 'urn:suhe:oauth-client'),
  server: e.agent.find((a) => a.network?.type === '5'),
});

describe('buildAuditEvent', () => {
  beforeAll(() => {
    loadR4Definitions();
  });

  const cases: [string, Partial<AuditInput>, { type: string; subtype?: string; action: string; client: string; server: string; user: string }][] = [
    ['read', { action: 'read', resource: { type: 'Observation', id: 'o1' } }, { type: 'rest', subtype: 'read', action: 'R', client: '110152', server: '110153', user: 'IRCP' }],
    ['vread', { action: 'vread', resource: { type: 'Observation', id: 'o1', versionId: '2' } }, { type: 'rest', subtype: 'vread', action: 'R', client: '110152', server: '110153', user: 'IRCP' }],
    ['create', { action: 'create', resource: { type: 'Observation', id: 'o1', versionId: '1' } }, { type: 'rest', subtype: 'create', action: 'C', client: '110153', server: '110152', user: 'AUT' }],
    ['update', { action: 'update', resource: { type: 'Observation', id: 'o1' } }, { type: 'rest', subtype: 'update', action: 'U', client: '110153', server: '110152', user: 'AUT' }],
    ['patch', { action: 'patch', resource: { type: 'Observation', id: 'o1' } }, { type: 'rest', subtype: 'patch', action: 'U', client: '110153', server: '110152', user: 'AUT' }],
    ['delete', { action: 'delete', resource: { type: 'Observation', id: 'o1' } }, { type: 'rest', subtype: 'delete', action: 'D', client: '110150', server: 'custodian', user: 'AUT' }],
    ['search-type', { action: 'search', resource: { type: 'Observation' }, query: { method: 'GET', url: '/fhir/Observation?code=1234-5' } }, { type: 'rest', subtype: 'search-type', action: 'E', client: '110153', server: '110152', user: 'IRCP' }],
    ['search-system', { action: 'search', query: { method: 'GET', url: '/fhir?_type=Patient' } }, { type: 'rest', subtype: 'search-system', action: 'E', client: '110153', server: '110152', user: 'IRCP' }],
    ['history-instance', { action: 'history', resource: { type: 'Patient', id: 'p1' } }, { type: 'rest', subtype: 'history-instance', action: 'E', client: '110153', server: '110152', user: 'IRCP' }],
    ['history-type', { action: 'history', resource: { type: 'Patient' } }, { type: 'rest', subtype: 'history-type', action: 'E', client: '110153', server: '110152', user: 'IRCP' }],
    ['operation', { action: 'operation', resource: { type: 'Patient', id: 'p1' } }, { type: 'rest', subtype: 'operation', action: 'E', client: '110153', server: '110152', user: 'IRCP' }],
    ['login', { action: 'login' }, { type: '110114', subtype: '110122', action: 'E', client: '110150', server: 'AuthzOauthService', user: 'humanuser' }],
    ['logout', { action: 'logout' }, { type: '110114', subtype: '110123', action: 'E', client: '110150', server: 'AuthzOauthService', user: 'humanuser' }],
    ['token', { action: 'token' }, { type: '110114', subtype: 'token-issued', action: 'E', client: '110150', server: 'AuthzOauthService', user: 'humanuser' }],
    ['denied read', { action: 'denied', deniedInteraction: 'read', resource: { type: 'Patient', id: 'p1' } }, { type: 'rest', subtype: 'read', action: 'R', client: '110152', server: '110153', user: 'IRCP' }],
    ['denied (unknown)', { action: 'denied' }, { type: 'rest', action: 'E', client: '110153', server: '110152', user: 'IRCP' }],
  ];

  it.each(cases)('%s: type, subtype, action and agents', (_name, over, want) => {
    const e = ev(over);
    expect(code(e.type)).toBe(want.type);
    expect(e.subtype?.map(code)).toEqual(want.subtype ? [want.subtype] : undefined);
    expect(e.action).toBe(want.action);
    const { user, client, server } = byWho(e);
    expect(e.agent).toHaveLength(3);
    expect(agentCodes(user!)).toEqual([want.user, 'UserOauthAgent']);
    expect(user).toMatchObject({ requestor: true, policy: ['jti-123'], name: 'Dr Li', who: { display: 'Dr Li' }, role: [{ text: 'doctor' }] });
    expect(agentCodes(client!)).toEqual([want.client]);
    expect(client).toMatchObject({ requestor: false, who: { identifier: { value: 'app-1' }, display: 'Ward app' }, network: { address: '10.1.2.3', type: '2' } });
    expect(agentCodes(server!)).toEqual([want.server]);
    expect(server).toMatchObject({ requestor: false, who: { display: 'Suhe hub' }, network: { address: 'https://hub.example.cn/fhir' } });
    expect(e.source).toEqual({
      observer: { display: 'Suhe hub' },
      type: [{ system: 'http://terminology.hl7.org/CodeSystem/security-source-type', code: '4', display: 'Application Server' }],
    });
    expect(e.outcome).toBe(over.action === 'denied' ? '4' : '0');
    // Valid base R4: @medplum/core throws on errors, ours returns them.
    expect(() => validateResource(e)).not.toThrow();
    expect(validateBase(e)).toEqual([]);
  });

  it('the validators are live: they reject a broken event (sev-1, missing recorded)', () => {
    const e = ev({ action: 'search', query: { method: 'GET', url: '/fhir/Patient' } });
    const q = e.entity!.find((x) => x.query)!;
    const broken = { ...e, entity: [{ ...q, name: 'named query' }] };
    expect(validateBase(broken).map((i) => i.code)).toContain('invariant');
    expect(() => validateResource(broken)).toThrow();
    const { recorded: _r, ...noRecorded } = e;
    expect(validateBase(noRecorded).length).toBeGreaterThan(0);
    expect(() => validateResource(noRecorded as AuditEvent)).toThrow();
  });

  it('maps outcomes and keeps the description', () => {
    expect(ev({ outcome: 'minor-failure', outcomeDescription: 'bad password' })).toMatchObject({ outcome: '4', outcomeDesc: 'bad password' });
    expect(ev({ outcome: 'serious-failure' }).outcome).toBe('8');
    expect(ev({ action: 'denied', outcome: 'serious-failure' }).outcome).toBe('8');
  });

  it('entities: data (versioned), patients, request id', () => {
    const e = ev({ action: 'vread', resource: { type: 'Observation', id: 'o1', versionId: '3' }, patients: ['p1', 'p2', 'p1'] });
    const [data, p1, p2, req, ...rest] = e.entity ?? [];
    expect(rest).toEqual([]);
    expect(data).toMatchObject({ what: { reference: 'Observation/o1/_history/3' }, type: { code: '2' }, role: { code: '4' } });
    expect(p1).toMatchObject({ what: { reference: 'Patient/p1' }, type: { code: '1' }, role: { code: '1', system: 'http://terminology.hl7.org/CodeSystem/object-role' } });
    expect(p2.what?.reference).toBe('Patient/p2');
    expect(req).toMatchObject({ what: { identifier: { value: 'req-42' } }, type: { system: 'https://profiles.ihe.net/ITI/BALP/CodeSystem/BasicAuditEntityType', code: 'XrequestId' } });
    expect(auditPatients(e)).toEqual(['p1', 'p2']);
  });

  it('a Patient read names the patient as data and as patient', () => {
    const e = ev({ resource: { type: 'Patient', id: 'p9' } });
    expect(e.entity?.map((x) => x.what?.reference)).toEqual(['Patient/p9', 'Patient/p9', undefined]);
    expect(auditPatients(e)).toEqual(['p9']);
    expect(auditPatients({ ...e, entity: undefined })).toEqual([]);
  });

  it('query entity: base64 of method, url and body; plain path+query; no name', () => {
    const e = ev({ action: 'search', resource: { type: 'Observation' }, query: { method: 'post', url: 'https://hub.example.cn/fhir/Observation/_search?_count=10', body: 'patient=p1&code=8867-4' }, requestId: undefined });
    const q = e.entity?.find((x) => x.role?.code === '24');
    expect(q?.type?.code).toBe('2');
    expect(Buffer.from(q?.query ?? '', 'base64').toString('utf8')).toBe('POST https://hub.example.cn/fhir/Observation/_search?_count=10\npatient=p1&code=8867-4');
    expect(q?.description).toBe('/fhir/Observation/_search?_count=10');
    expect(q?.name).toBeUndefined();
    expect(q?.what).toBeUndefined();
    expect(validateBase(e)).toEqual([]);
  });

  it('without a user the client is the requestor and carries the token id', () => {
    const e = ev({ user: undefined, client: { id: 'backend', address: 'host.example.cn' } });
    const { client } = byWho(e);
    expect(client).toMatchObject({ requestor: true, policy: ['jti-123'], who: { display: 'backend' }, network: { type: '1' } });
    expect(agentCodes(client!)).toEqual(['110152', 'UserOauthAgent']);
    expect(e.agent.filter((a) => a.requestor)).toHaveLength(1);
    expect(validateBase(e)).toEqual([]);
  });

  it('a user known only by account id gets an identifier; no client, no token', () => {
    const e = ev({ action: 'login', user: { id: 'acct-7' }, client: undefined, tokenId: undefined });
    expect(e.agent).toHaveLength(2);
    expect(e.agent[0]).toEqual({ type: { coding: [expect.objectContaining({ code: 'humanuser' })] }, who: { identifier: { system: 'urn:suhe:account', value: 'acct-7' } }, requestor: true });
    expect(validateBase(e)).toEqual([]);
    expect(() => validateResource(e)).not.toThrow();
  });

  it('break-the-glass purpose and reason go on the requestor, or on the event without one', () => {
    const btg = { system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'BTG', display: 'break the glass' };
    const e = ev({ purposeOfUse: btg, reason: 'unconscious patient in ED' });
    expect(byWho(e).user?.purposeOfUse).toEqual([{ coding: [btg], text: 'unconscious patient in ED' }]);
    expect(e.purposeOfEvent).toBeUndefined();
    const alone = ev({ user: undefined, client: undefined, reason: 'maintenance' });
    expect(alone.purposeOfEvent).toEqual([{ text: 'maintenance' }]);
    expect(alone.agent).toEqual([expect.objectContaining({ requestor: false })]);
    expect(validateBase(e)).toEqual([]);
    expect(validateBase(alone)).toEqual([]);
    expect(() => validateResource(alone)).not.toThrow();
  });

  it('never records a token or a password', () => {
    const actions: AuditAction[] = ['read', 'search', 'login', 'token', 'denied'];
    for (const action of actions) {
      const e = ev({
        action,
        tokenId: FAKE_TOKEN, // a caller passing the token by mistake
        query: { method: 'GET', url: `/fhir/Patient?name=li&access_token=${FAKE_TOKEN}` },
        resource: { type: 'Patient' },
      });
      const json = JSON.stringify(e);
      const decoded = (e.entity ?? []).map((x) => (x.query ? Buffer.from(x.query, 'base64').toString('utf8') : '')).join('\n');
      expect(json).not.toContain(FAKE_TOKEN);
      expect(decoded).not.toContain(FAKE_TOKEN);
      expect(decoded).toContain('access_token=***');
      expect(validateBase(e)).toEqual([]);
    }
    const form = ev({ action: 'search', query: { method: 'POST', url: '/fhir/Patient/_search', body: 'name=li&password=hunter2&client_secret=s3cr3t' } });
    const raw = Buffer.from(form.entity!.find((x) => x.query)!.query!, 'base64').toString('utf8');
    expect(raw).toBe('POST /fhir/Patient/_search\nname=li&password=***&client_secret=***');
  });
});
