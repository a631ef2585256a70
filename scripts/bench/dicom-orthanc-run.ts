// The Orthanc half of the imaging benchmark, run by dicom.ts as a child process — inside a
// loopback-only network namespace (`unshare -n`) when the machine allows it, because Orthanc 1.10
// listens on every address. It starts Orthanc, runs the same measurements as for Suhe
// (dicom-measure.ts) and prints them as one line `@@result <json>`; other lines are progress.
//   node --import tsx scripts/bench/dicom-orthanc-run.ts <plan.json> <work dir>
import { readFileSync } from 'node:fs';
import { measureTarget, type Plan } from './dicom-measure.js';
import { ORTHANC_AET, startOrthanc } from './dicom-orthanc.js';

const [planFile, dir] = process.argv.slice(2);
const say = (line: string) => process.stdout.write(`${line}\n`);
let stopOrthanc: (() => Promise<void>) | undefined;

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    void (stopOrthanc?.() ?? Promise.resolve()).finally(() => process.exit(130));
  });
}
// The parent went away (its pipe closed): stop too.
process.stdout.on('error', () => void (stopOrthanc?.() ?? Promise.resolve()).finally(() => process.exit(1)));

try {
  if (!planFile || !dir) throw new Error('usage: dicom-orthanc-run.ts <plan.json> <work dir>');
  const plan = JSON.parse(readFileSync(planFile, 'utf8')) as Plan;
  const orthanc = await startOrthanc(dir, plan.callingAet, (stop) => (stopOrthanc = stop));
  say(`@@pid ${orthanc.pid}`);
  say(`Orthanc: ${orthanc.version} at ${orthanc.url} (DICOM port ${orthanc.dicomPort}, pid ${orthanc.pid})`);
  const result = await measureTarget(
    {
      name: 'Orthanc',
      web: orthanc.web,
      headers: () => ({}),
      dimse: { port: orthanc.dicomPort, aet: ORTHANC_AET },
      cpu: async () => ({ server: orthanc.cpuMs() }),
    },
    plan,
    say,
  );
  say(`@@result ${JSON.stringify({ version: orthanc.version, result })}`);
} catch (err) {
  say(`@@error ${JSON.stringify((err as Error).stack ?? String(err))}`);
  process.exitCode = 1;
} finally {
  await stopOrthanc?.();
}
