// The `suhe` CLI as an operator uses it: serve --demo, import of bundles and NDJSON, bad input.
import { spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import type { Bundle } from '@medplum/fhirtypes';
import { ROOT, spawnHub, type SpawnedHub } from '../helpers/spawn-hub.js';

const SMART_FILE = join(ROOT, '../shared/testdata/fhir/synthea/smart/Abdul_Koepp_e925b0f3-8006-43f6-aa31-94bd215e55e7.json');
const children: ChildProcess[] = [];
const dirs: string[] = [];

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'suhe-cli-'));
  dirs.push(dir);
  return dir;
}

function suhe(...args: string[]) {
  const env: NodeJS.ProcessEnv = { ...process.env, SUHE_LOG_LEVEL: 'warn' };
  delete env.SUHE_DATABASE_URL;
  const run = spawnSync(process.execPath, ['bin/suhe.js', ...args], { cwd: ROOT, env, encoding: 'utf8', timeout: 120_000 });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

async function total(hub: SpawnedHub, query: string): Promise<number | undefined> {
  return ((await (await hub.fetch(`${hub.base}/${query}${query.includes('?') ? '&' : '?'}_total=accurate&_count=0`)).json()) as Bundle).total;
}

afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('suhe CLI on the embedded database', () => {
  it('serve --demo loads the demo district into an empty database once, and prints the URLs', async () => {
    const dataDir = tempDir();
    const first = await spawnHub(dataDir, undefined, children, ['--demo']);
    const printed = () => first.output.join('');
    expect(printed()).toMatch(/Capabilities\s+http:\/\/127\.0\.0\.1:\d+\/fhir\/metadata/);
    expect(printed()).toMatch(/fsync off/); // says plainly what the embedded database does not guarantee
    await new Promise((r) => setTimeout(r, 100));
    expect(await total(first, 'Patient')).toBe(20);
    expect(await total(first, 'Organization')).toBe(4); // the district's three and the city hospital (FD-05)
    first.child.kill('SIGTERM');
    expect((await first.exited).code).toBe(0);

    const second = await spawnHub(dataDir, undefined, children, ['--demo']);
    expect(await total(second, 'Patient')).toBe(20);
    expect(second.output.join('')).toMatch(/Demo data: skipped/);
    second.child.kill('SIGTERM');
    await second.exited;
  }, 180_000);

  it('import loads a transaction bundle and NDJSON with progress; re-importing NDJSON updates the same resources, no duplicates', async () => {
    const dataDir = tempDir();
    const bundle = suhe('import', SMART_FILE, '--data-dir', dataDir);
    const entries = (JSON.parse(readFileSync(SMART_FILE, 'utf8')) as Bundle).entry!.length;
    expect(bundle.status).toBe(0);
    expect(bundle.stdout).toMatch(/\[1\/1\] \d+ resources/);
    expect(bundle.stdout).toContain(`Imported ${entries} resources from 1 files.`);

    const ndjson = join(tempDir(), 'orgs.ndjson');
    writeFileSync(
      ndjson,
      [
        { resourceType: 'Organization', id: 'clinic-a', name: '社区卫生服务中心 A' },
        { resourceType: 'Organization', id: 'clinic-b', name: '社区卫生服务中心 B' },
      ]
        .map((r) => JSON.stringify(r))
        .join('\n') + '\n',
    );
    expect(suhe('import', ndjson, '--data-dir', dataDir).stdout).toContain('Imported 2 resources from 1 files.');
    expect(suhe('import', ndjson, '--data-dir', dataDir).status).toBe(0);

    const hub = await spawnHub(dataDir, undefined, children);
    expect(await total(hub, 'Patient')).toBe(1);
    expect(await total(hub, 'Organization?name=社区')).toBe(2);
    const history = (await (await hub.fetch(`${hub.base}/Organization/clinic-a/_history`)).json()) as Bundle;
    expect(history.total).toBe(2); // the same content imported twice: two versions, one resource
    hub.child.kill('SIGTERM');
    await hub.exited;
  }, 180_000);

  it('import reports a file that fails and exits non-zero', () => {
    const bad = join(tempDir(), 'broken.json');
    writeFileSync(bad, '{"resourceType": "Bundle", "type": "transaction", "entry": [{"resource": {"resourceType": "Patient", "birthDate": "soon"}, "request": {"method": "POST", "url": "Patient"}}]}');
    const run = suhe('import', bad, '--data-dir', tempDir());
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(/failed: .*broken\.json: .*birthDate/);
  }, 120_000);

  it('bad arguments end with a message that says what to fix', () => {
    expect(suhe('serve', '--port', 'eighty')).toMatchObject({ status: 1, stderr: expect.stringContaining("--port must be a number, got 'eighty'") });
    expect(suhe('frobnicate')).toMatchObject({ status: 1, stderr: expect.stringContaining("Unknown command 'frobnicate'") });
    expect(suhe('import')).toMatchObject({ status: 1, stderr: expect.stringContaining('import needs a FILE or DIR') });
    expect(suhe('serve', '--database', 'mysql://x')).toMatchObject({ status: 1, stderr: expect.stringContaining('must start with postgres://') });
    expect(suhe('help').stdout).toContain('suhe serve');
  });
});
