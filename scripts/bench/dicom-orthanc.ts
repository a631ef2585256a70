// Starts Orthanc (the Debian package) for the imaging benchmark: a throwaway storage and index in
// a temp dir, HTTP and DICOM on free ports, no remote access, the DICOMweb plugin at /dicom-web/,
// C-STORE only from the benchmark's AE. It runs under `setpriv --pdeathsig KILL`, so it dies with
// the process that started it however that ends; stop() asks it to shut down first.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, writeFileSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { cpuOfPids } from './cpu.js';
import { freePort } from '../../test/helpers/ports.js';
import { baseOrthancConfig, ORTHANC_BINARY, ORTHANC_DICOMWEB_PLUGIN as DICOMWEB_PLUGIN } from '../../test/peers/orthanc.js';

export { DICOMWEB_PLUGIN, ORTHANC_BINARY };
export const ORTHANC_AET = 'ORTHANC';

export interface RunningOrthanc {
  url: string;
  web: string;
  dicomPort: number;
  pid: number;
  /** From GET /system and the plugin list, e.g. "Orthanc 1.10.1, dicom-web 1.7". */
  version: string;
  cpuMs(): number;
  stop(): Promise<void>;
}


export async function startOrthanc(dir: string, callingAet: string, onStart: (stop: () => Promise<void>) => void): Promise<RunningOrthanc> {
  for (const file of [ORTHANC_BINARY, DICOMWEB_PLUGIN]) if (!existsSync(file)) throw new Error(`${file} is not installed`);
  for (const sub of ['storage', 'index', 'tmp']) mkdirSync(join(dir, sub), { recursive: true });
  const [httpPort, dicomPort] = [await freePort(), await freePort()];
  const config = {
    ...baseOrthancConfig(dir, { http: httpPort, dicom: dicomPort }, ORTHANC_AET),
    Name: 'SuheBenchOrthanc',
    // Only the benchmark's storescu may store, and only from this machine.
    DicomModalities: { bench: [callingAet, '127.0.0.1', 11112] },
    DicomAlwaysAllowStore: false,
    DicomAlwaysAllowEcho: false,
    DicomCheckModalityHost: true,
  };
  const configPath = join(dir, 'orthanc.json');
  writeFileSync(configPath, JSON.stringify(config, null, 2));
  const log = openSync(join(dir, 'orthanc.log'), 'a');
  const child: ChildProcess = spawn('setpriv', ['--pdeathsig', 'KILL', ORTHANC_BINARY, configPath], { stdio: ['ignore', log, log] });
  closeSync(log);
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  let gone = false;
  void exited.then(() => (gone = true));
  const stop = async () => {
    if (gone) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(timer);
  };
  onStart(stop);
  const url = `http://127.0.0.1:${httpPort}`;
  const deadline = Date.now() + 60_000;
  let system: { Version?: string } | undefined;
  while (!system) {
    if (gone) throw new Error(`Orthanc exited at start; see ${join(dir, 'orthanc.log')}:\n${tail(join(dir, 'orthanc.log'))}`);
    if (Date.now() > deadline) throw new Error(`Orthanc did not answer within 60 s; see ${join(dir, 'orthanc.log')}`);
    system = await fetch(`${url}/system`).then((r) => (r.ok ? (r.json() as Promise<{ Version?: string }>) : undefined)).catch(() => undefined);
    if (!system) await new Promise((r) => setTimeout(r, 200));
  }
  const plugin = await fetch(`${url}/plugins/dicom-web`).then((r) => (r.ok ? (r.json() as Promise<{ Version?: string }>) : undefined)).catch(() => undefined);
  if (!plugin) throw new Error(`Orthanc started without its DICOMweb plugin; see ${join(dir, 'orthanc.log')}`);
  const pid = child.pid!;
  return {
    url,
    web: `${url}/dicom-web`,
    dicomPort,
    pid,
    version: `Orthanc ${system.Version ?? '?'}, DICOMweb plugin ${plugin.Version ?? '?'}`,
    cpuMs: () => cpuOfPids([pid]).get(pid) ?? Number.NaN,
    stop,
  };
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-15).join('\n');
  } catch {
    return '(no log)';
  }
}
