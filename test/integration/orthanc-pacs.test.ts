// Orthanc as a hospital PACS: the hub receives a study Orthanc sends it (C-STORE), queries Orthanc
// (C-FIND through POST /imaging/peers/ORTHANC/find), retrieves a study from it (C-MOVE through
// POST /imaging/peers/ORTHANC/retrieve) and agrees with Orthanc's own QIDO-RS. Orthanc 1.10
// listens on every address, so the whole scenario (Orthanc, the hub, every client) runs as a
// child process inside a loopback-only network namespace (test/peers/orthanc-scenario.ts);
// this suite runs it once and asserts on the facts it prints.
import { spawn } from 'node:child_process';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { dicomFiles } from '../helpers/dicom.js';
import { orthancUnavailable, REQUIRE_ALL } from '../helpers/parts.js';
import { ROOT } from '../helpers/spawn-hub.js';
import type { ScenarioFacts } from '../peers/orthanc-scenario.js';

const missing = await orthancUnavailable();
if (missing && REQUIRE_ALL) throw new Error(`orthanc pacs: SUHE_TEST_REQUIRE_ALL=1 but ${missing}`);
if (missing) process.stdout.write(`SKIPPED (orthanc pacs): ${missing}\n`);

const CT_STUDY = '1.2.826.0.1.3680043.8.498.15940666650170792163068781369108084574';
const MR_STUDY = '1.2.826.0.1.3680043.8.498.23904356067352728123256330845974725175';
const CT = dicomFiles('series/ct-10').length;
const MR = 24;
const RUN_LIMIT_MS = 60_000;

/** Runs the scenario in its own network namespace and process group; resolves with its facts. */
function runScenario(): Promise<{ facts: ScenarioFacts; wallMs: number }> {
  const started = Date.now();
  const node = `exec "${process.execPath}" --import tsx test/peers/orthanc-scenario.ts --mr ${MR} --deadline ${RUN_LIMIT_MS / 1000 - 5}`;
  const child = spawn('unshare', ['-n', 'sh', '-c', `ip link set lo up && ${node}`], { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SUHE_TEST_LOGS: '0' } });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    // Past the limit the whole process group goes (the scenario, and Orthanc should it linger).
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
      reject(new Error(`the Orthanc scenario did not finish within ${RUN_LIMIT_MS / 1000} s:\n${stdout}\n${stderr.slice(-3000)}`));
    }, RUN_LIMIT_MS);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      const line = stdout.split('\n').find((l) => l.startsWith('ORTHANC-SCENARIO '));
      if (code === 0 && line) return resolve({ facts: JSON.parse(line.slice('ORTHANC-SCENARIO '.length)) as ScenarioFacts, wallMs: Date.now() - started });
      const error = stdout.split('\n').filter((l) => !l.startsWith('ORTHANC-SCENARIO ')).join('\n');
      reject(new Error(`the Orthanc scenario failed (exit ${code ?? signal}):\n${error.slice(-4000)}\n${stderr.slice(-3000)}`));
    });
  });
}

(missing ? describe.skip : describe)('Orthanc as a hospital PACS, in a loopback-only network namespace', () => {
  let facts: ScenarioFacts;
  let wallMs: number;

  beforeAll(async () => {
    ({ facts, wallMs } = await runScenario());
    const { ms } = facts;
    process.stdout.write(
      `orthanc pacs: ${facts.orthanc}; whole run ${(wallMs / 1000).toFixed(1)} s (scenario ${(ms.total / 1000).toFixed(1)} s: hub start ${ms.hubStart} ms, Orthanc start ${ms.orthancStart} ms, ` +
        `Orthanc C-STORE of ${CT} to the hub ${ms.orthancStore} ms, queries ${ms.find} ms, C-MOVE of ${MR} from Orthanc ${ms.retrieve} ms)\n`,
    );
  }, RUN_LIMIT_MS + 15_000);

  it('runs within a minute', () => {
    expect(wallMs).toBeLessThan(RUN_LIMIT_MS);
    expect(facts.uploaded).toEqual({ ct: CT, mr: MR, orthancStudies: 2 });
  });

  it('(a) a study Orthanc C-STOREs to the hub is found by QIDO-RS and retrieved by WADO-RS with identical data sets', () => {
    expect(facts.store).toMatchObject({ orthancSent: CT, orthancFailed: 0, hubQidoInstances: CT, wadoParts: CT, differing: [], unknown: [] });
    expect(facts.store.identical + facts.store.identicalWithoutPadding).toBe(CT);
  });

  it('(b) the hub finds both of Orthanc\'s studies by Patient ID, wildcard, date range, at SERIES and IMAGE level', () => {
    const { find } = facts;
    expect(find.byPatientIdCt).toEqual({ count: 1, studyUid: CT_STUDY, instances: CT, patientName: 'Lymphoma' });
    expect(find.byPatientIdMr).toEqual({ count: 1, studyUid: MR_STUDY, instances: MR });
    expect(find.wildcard.studyUids).toEqual([CT_STUDY, MR_STUDY].sort());
    // The CT study has no Study Date: a range does not match it.
    expect(find.dateRange.studyUids).toEqual([MR_STUDY]);
    expect(find.series).toEqual({ count: 2, studyUids: [CT_STUDY, MR_STUDY].sort(), modalities: ['CT', 'MR'], instances: [CT, MR].sort((a, b) => a - b) });
    expect(find.mrSeries).toEqual({ count: 1, studyUid: MR_STUDY, instances: MR });
    expect(find.images).toEqual({ count: MR, sopInstanceUids: MR });
    expect(find.peers.status).toBe(200);
    expect(find.peers.body).toEqual([{ aeTitle: 'ORTHANC', host: '127.0.0.1', port: expect.any(Number) }]);
  });

  it('refuses malformed queries and retrieves with a 400 that says why, an unknown peer with a 404', () => {
    const { refusals } = facts.find;
    expect(refusals.unknownPeer).toEqual({ status: 404, message: expect.stringMatching(/NOWHERE/) });
    expect(refusals.patientLevel).toEqual({ status: 400, message: expect.stringMatching(/STUDY, SERIES or IMAGE/) });
    expect(refusals.badDate).toEqual({ status: 400, message: expect.stringMatching(/StudyDate.*not a date/) });
    expect(refusals.unknownKey).toEqual({ status: 400, message: expect.stringMatching(/NoSuchKeyword/) });
    expect(refusals.numberValue).toEqual({ status: 400, message: expect.stringMatching(/must be a string/) });
    expect(refusals.badUid).toEqual({ status: 400, message: expect.stringMatching(/studyUid must be a DICOM UID/) });
    expect(refusals.extraProperty).toEqual({ status: 400, message: expect.stringMatching(/Unknown property 'destination'/) });
  });

  it('(c) the hub retrieves a study from Orthanc (C-MOVE to itself): counts, QIDO-RS, ImagingStudy, bytes, audit', () => {
    const { retrieve } = facts;
    expect(retrieve.status).toBe(200);
    expect(retrieve.body).toMatchObject({ peer: 'ORTHANC', studyUid: MR_STUDY, outcome: 'success', status: '0x0000', completed: MR, failed: 0, warning: 0, instancesOnHub: MR });
    expect(retrieve.body.retrieveUrl).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:\\d+/dicomweb/studies/${MR_STUDY.replace(/\./g, '\\.')}$`));
    expect(retrieve.body.imagingStudy).toMatch(/^ImagingStudy\/[\w-]+$/);
    expect(retrieve).toMatchObject({ hubQidoInstances: MR, imagingStudyInstances: MR, wadoParts: MR, identical: MR, audited: true });
    expect(retrieve.subject).toMatch(/^Patient\//);
    // Orthanc answers a move of a study it does not have with a failure status (0xC000): 502 naming it.
    expect(retrieve.unknownStudy.status).toBe(502);
    expect(retrieve.unknownStudy.message).toMatch(/ORTHANC answered the C-MOVE with status 0x[0-9A-F]{4}/);
  });

  it('(d) Orthanc\'s QIDO-RS and the hub\'s agree on the study Orthanc sent', () => {
    expect(facts.agree.orthanc).toEqual({ studyUid: CT_STUDY, patientId: 'Z-Missing-Slices-Lymphoma', instances: CT });
    expect(facts.agree.hub).toEqual(facts.agree.orthanc);
  });
});
