// Structured logs: one JSON line per request with its request id; no patient data above debug.
import { request } from 'node:http';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHub, type Hub } from '../../server/src/app.js';
import { createLogger } from '../../server/src/audit/logger.js';
import { loadConfig } from '../../server/src/config/config.js';
import { clientCredentialsToken, fetchWithToken, newBootstrapClient } from '../helpers/auth.js';

describe('request logging', () => {
  let hub: Hub;
  let base: string;
  let authed: typeof fetch;
  let token: string;
  const admin = newBootstrapClient();
  const lines: string[] = [];

  beforeAll(async () => {
    const stream = new PassThrough();
    stream.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter(Boolean)));
    const config = { ...loadConfig({ port: 0, bootstrapClient: admin }, {}), dataDir: 'memory://' };
    hub = await createHub(config, { logger: createLogger('info', false, stream) });
    const url = (await hub.listen()).url;
    base = `${url}/fhir`;
    token = await clientCredentialsToken(url, admin);
    authed = fetchWithToken(() => token);
  });
  afterAll(async () => {
    await hub?.close();
  });

  it('writes one JSON line per request with the request id, and no names or identifiers', async () => {
    const created = await authed(`${base}/Patient`, {
      method: 'POST',
      headers: { 'content-type': 'application/fhir+json', 'x-request-id': 'trace-123' },
      body: JSON.stringify({ resourceType: 'Patient', name: [{ family: '欧阳', given: ['娜娜'] }], identifier: [{ system: 'urn:suhe:mrn', value: 'MRN-SECRET-42' }] }),
    });
    expect(created.headers.get('x-request-id')).toBe('trace-123');
    await authed(`${base}/Patient?family=欧阳&identifier=MRN-SECRET-42`);
    await authed(`${base}/Patient?birthdate=not-a-date`);
    await new Promise((r) => setTimeout(r, 50));

    const entries = lines.map((line) => JSON.parse(line));
    const requests = entries.filter((e) => e.message === 'request' && e.path.startsWith('/fhir'));
    expect(requests).toHaveLength(3);
    expect(requests[0]).toMatchObject({ requestId: 'trace-123', method: 'POST', path: '/fhir/Patient', status: 201, level: 'info' });
    expect(requests[1].requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(requests[2].status).toBe(400);
    const everything = lines.join('\n');
    for (const secret of ['欧阳', '娜娜', 'MRN-SECRET-42', encodeURIComponent('欧阳'), 'not-a-date']) expect(everything).not.toContain(secret);
  });

  it('never logs a share link\'s token: it is the credential that opens the study', async () => {
    const token = 'sh4reT0kenThatMustNotBeLogged0123456789abcdef';
    await fetch(`${base.replace(/\/fhir$/, '')}/imaging/shared/${token}/dicomweb/studies/1.2.3/metadata`);
    await new Promise((r) => setTimeout(r, 50));
    const shared = lines.map((line) => JSON.parse(line)).filter((e) => e.message === 'request' && e.path.startsWith('/imaging/shared/'));
    expect(shared.map((e) => e.path)).toEqual(['/imaging/shared/[token]/dicomweb/studies/1.2.3/metadata']);
    expect(lines.join('\n')).not.toContain(token);
  });

  it('a STOW-RS upload the client cuts off is logged at info, not as an error with a stack', async () => {
    const origin = base.replace(/\/fhir$/, '');
    await new Promise<void>((resolve) => {
      const req = request(`${origin}/dicomweb/studies`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'multipart/related; type="application/dicom"; boundary=cut' },
      });
      req.on('error', () => resolve());
      req.write('--cut\r\nContent-Type: application/dicom\r\n\r\n');
      req.write(Buffer.alloc(64 * 1024, 1), () => setTimeout(() => req.destroy(), 100));
    });
    for (let i = 0; i < 100 && !lines.some((l) => l.includes('mid-upload')); i++) await new Promise((r) => setTimeout(r, 20));
    const entries = lines.map((line) => JSON.parse(line));
    expect(entries.filter((e) => /mid-upload/.test(e.message)).map((e) => e.level)).toEqual(['info']);
    expect(entries.filter((e) => e.level === 'error')).toEqual([]);
  });
});
