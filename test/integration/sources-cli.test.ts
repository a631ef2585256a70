// `suhe sources add|list|sync|status|remove` as an operator runs them, on the embedded database:
// what each prints, that bad input is refused with what to fix, and that a source that cannot be
// reached fails its sync with a non-zero exit and a run recorded for `status`.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { ROOT } from '../helpers/spawn-hub.js';

const dataDir = mkdtempSync(join(tmpdir(), 'suhe-sources-cli-'));

function suhe(args: string[], env: NodeJS.ProcessEnv = {}) {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, SUHE_LOG_LEVEL: 'warn', ...env };
  delete childEnv.SUHE_DATABASE_URL;
  const run = spawnSync(process.execPath, ['bin/suhe.js', ...args, '--data-dir', dataDir], { cwd: ROOT, env: childEnv, encoding: 'utf8', timeout: 120_000 });
  return { status: run.status, out: `${run.stdout}${run.stderr}` };
}

afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('suhe sources', () => {
  it('adds a source, lists it, refuses bad input, records a failed sync, and removes it', () => {
    const added = suhe(['sources', 'add', 'district-hospital', '--url', 'http://127.0.0.1:9/fhir', '--organization-name', '苏河区中心医院', '--types', 'Patient,Observation', '--auth', 'bearer'], { SUHE_SOURCE_SECRET: 'a-token' });
    expect(added).toMatchObject({ status: 0 });
    expect(added.out).toMatch(/Added source district-hospital: Endpoint\/[\w-]+ for Organization\/[\w-]+, http:\/\/127\.0\.0\.1:9\/fhir \(2 types, auth bearer, on demand\)/);
    expect(added.out).not.toContain('a-token');

    const listed = suhe(['sources', 'list']);
    expect(listed.status).toBe(0);
    expect(listed.out).toMatch(/^district-hospital\tactive\tEndpoint\/[\w-]+\tOrganization\/[\w-]+\thttp:\/\/127\.0\.0\.1:9\/fhir\tauth=bearer\ton demand$/m);

    // (the other refusals are checked in process: test/integration/federation.test.ts)
    expect(suhe(['sources', 'add', 'clinic', '--url', 'not a url'])).toMatchObject({ status: 1, out: expect.stringMatching(/is not a URL; give the source's FHIR base/) });

    // Nothing listens on port 9: the sync retries, then fails and says why.
    const synced = suhe(['sources', 'sync', 'district-hospital']);
    expect(synced.status).toBe(1);
    expect(synced.out).toMatch(/\[district-hospital\] failed: .*cannot connect/);
    const status = suhe(['sources', 'status', 'district-hospital']);
    expect(status.status).toBe(0);
    expect(status.out).toMatch(/pull .* failed: 0 fetched/);

    expect(suhe(['sources', 'remove', 'district-hospital'])).toMatchObject({ status: 0, out: expect.stringMatching(/Removed source district-hospital/) });
    expect(suhe(['sources', 'sync', 'district-hospital'])).toMatchObject({ status: 1, out: expect.stringMatching(/No source named 'district-hospital'/) });
  });
});
