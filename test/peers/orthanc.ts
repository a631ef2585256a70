// Orthanc (the Debian package) as a hospital PACS for tests: storage and index in a temp dir, HTTP
// and DICOM on free ports, REST from this machine only, the DICOMweb plugin at /dicom-web/, and the
// given DICOM modalities (the hub's AE, so it may query, move and be sent to). Orthanc 1.10 binds
// every address, so it must run inside a loopback-only network namespace (the caller checks);
// it runs under `setpriv --pdeathsig KILL` where setpriv exists, so it dies with this process
// however that ends, and stop() asks it to shut down first.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../helpers/ports.js';

export const ORTHANC_BINARY = process.env.SUHE_TEST_ORTHANC ?? '/usr/sbin/Orthanc';
export const ORTHANC_DICOMWEB_PLUGIN = process.env.SUHE_TEST_ORTHANC_DICOMWEB ?? '/usr/share/orthanc/plugins/libOrthancDicomWeb.so';

export interface TestOrthanc {
  /** REST root, e.g. http://127.0.0.1:40123 */
  url: string;
  dicomPort: number;
  aeTitle: string;
  version: string;
  log: string;
  /** The last lines of Orthanc's log, for error messages. */
  logTail(): string;
  stop(): Promise<void>;
}


/** What every Orthanc we start shares: its files in `dir`, loopback-only HTTP, no compression, DICOMweb on. */
export function baseOrthancConfig(dir: string, ports: { http: number; dicom: number }, aeTitle: string): Record<string, unknown> {
  return {
    StorageDirectory: join(dir, 'storage'),
    IndexDirectory: join(dir, 'index'),
    TemporaryDirectory: join(dir, 'tmp'),
    StorageCompression: false,
    HttpServerEnabled: true,
    HttpPort: ports.http,
    RemoteAccessAllowed: false,
    AuthenticationEnabled: false,
    DicomServerEnabled: true,
    DicomPort: ports.dicom,
    DicomAet: aeTitle,
    Plugins: [ORTHANC_DICOMWEB_PLUGIN],
    DicomWeb: { Enable: true, Root: '/dicom-web/' },
  };
}

export async function startOrthanc(dir: string, options: { aeTitle: string; modalities: Record<string, [string, string, number]>; startTimeoutMs: number; dicomPort?: number }): Promise<TestOrthanc> {
  for (const file of [ORTHANC_BINARY, ORTHANC_DICOMWEB_PLUGIN]) if (!existsSync(file)) throw new Error(`${file} is not installed`);
  for (const sub of ['storage', 'index', 'tmp']) mkdirSync(join(dir, sub), { recursive: true });
  const httpPort = await freePort();
  const dicomPort = options.dicomPort ?? (await freePort());
  const config = {
    ...baseOrthancConfig(dir, { http: httpPort, dicom: dicomPort }, options.aeTitle),
    Name: 'SuheTestPacs',
    DicomModalities: options.modalities,
    // Associations Orthanc opens (C-STORE to the hub) end as soon as their work is done.
    DicomAssociationCloseDelay: 0,
    DicomScuTimeout: 10,
    SaveJobs: false,
  };
  const configPath = join(dir, 'orthanc.json');
  writeFileSync(configPath, JSON.stringify(config, null, 2));
  const logPath = join(dir, 'orthanc.log');
  const log = openSync(logPath, 'a');
  const hasSetpriv = spawnSync('setpriv', ['--help'], { stdio: 'ignore' }).status === 0;
  // Orthanc's DICOM network layer is DCMTK's, which leaves Nagle on unless TCP_NODELAY=1 (~40 ms per message).
  const env = { ...process.env, TCP_NODELAY: '1' };
  const child = hasSetpriv
    ? spawn('setpriv', ['--pdeathsig', 'KILL', ORTHANC_BINARY, configPath], { stdio: ['ignore', log, log], env })
    : spawn(ORTHANC_BINARY, [configPath], { stdio: ['ignore', log, log], env });
  closeSync(log);
  let gone = false;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => (gone = true));
  const logTail = () => {
    try {
      return readFileSync(logPath, 'utf8').split('\n').slice(-20).join('\n');
    } catch {
      return '(no log)';
    }
  };
  const stop = async () => {
    if (gone) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  };
  const url = `http://127.0.0.1:${httpPort}`;
  try {
    const deadline = Date.now() + options.startTimeoutMs;
    let system: { Version?: string } | undefined;
    while (!system) {
      if (gone) throw new Error(`Orthanc exited at start:\n${logTail()}`);
      if (Date.now() > deadline) throw new Error(`Orthanc did not answer within ${options.startTimeoutMs} ms:\n${logTail()}`);
      system = await fetch(`${url}/system`, { signal: AbortSignal.timeout(2000) })
        .then((r) => (r.ok ? (r.json() as Promise<{ Version?: string }>) : undefined))
        .catch(() => undefined);
      if (!system) await new Promise((r) => setTimeout(r, 100));
    }
    const plugin = await fetch(`${url}/plugins/dicom-web`, { signal: AbortSignal.timeout(2000) })
      .then((r) => (r.ok ? (r.json() as Promise<{ Version?: string }>) : undefined))
      .catch(() => undefined);
    if (!plugin) throw new Error(`Orthanc started without its DICOMweb plugin:\n${logTail()}`);
    return { url, dicomPort, aeTitle: options.aeTitle, version: `Orthanc ${system.Version ?? '?'}, DICOMweb plugin ${plugin.Version ?? '?'}`, log: logPath, logTail, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
