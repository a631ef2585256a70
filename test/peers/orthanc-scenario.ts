// Orthanc as a hospital PACS beside the hub, end to end over real DIMSE and DICOMweb. Run inside
// a loopback-only network namespace (test/integration/orthanc-pacs.test.ts does):
//
//   unshare -n sh -c 'ip link set lo up && exec node --import tsx test/peers/orthanc-scenario.ts [--mr N]'
//
// It starts the hub in-process (PGlite in memory, AE SUHE, DIMSE on a free port, Orthanc as its
// peer) and Orthanc (AE ORTHANC, knowing SUHE), uploads the CT series and N instances of the MR
// series to Orthanc over REST, and then:
//   (a) Orthanc C-STOREs the CT study to the hub: QIDO count, and WADO-RS data sets compared with
//       the source files byte for byte (File Meta group skipped in both);
//   (b) the hub queries Orthanc through POST /imaging/peers/ORTHANC/find (Patient ID, wildcard,
//       date range, SERIES and IMAGE level) and the API's refusals;
//   (c) the hub retrieves the MR study through POST /imaging/peers/ORTHANC/retrieve (C-MOVE to
//       SUHE): counts, QIDO, ImagingStudy, bytes, the audit trail;
//   (d) Orthanc's own QIDO-RS and the hub's agree on the CT study.
// It prints one line `ORTHANC-SCENARIO <json>` with what it measured (the jest suite asserts on
// it) and exits 0; on any failure it prints `ORTHANC-SCENARIO-ERROR <message>` and exits 1.
// Orthanc is stopped and the hub closed on every way out; a watchdog ends the run at --deadline.
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { AuditEvent, Bundle, ImagingStudy } from '@medplum/fhirtypes';
import dicomParser from 'dicom-parser';
import { datasetOf, dicomFiles, splitMultipart, withoutTrailingPadding } from '../helpers/dicom.js';
import { startTestHub, type TestHub } from '../helpers/hub.js';
import { freePort } from '../helpers/ports.js';
import { startOrthanc, type TestOrthanc } from './orthanc.js';

export interface ScenarioFacts {
  orthanc: string;
  uploaded: { ct: number; mr: number; orthancStudies: number };
  store: { orthancSent: number; orthancFailed: number; hubQidoInstances: number; wadoParts: number; identical: number; identicalWithoutPadding: number; differing: string[]; unknown: string[] };
  find: {
    byPatientIdCt: { count: number; studyUid?: string; instances?: number; patientName?: string };
    byPatientIdMr: { count: number; studyUid?: string; instances?: number };
    wildcard: { query: string; studyUids: string[] };
    dateRange: { query: string; studyUids: string[] };
    series: { count: number; studyUids: string[]; modalities: string[]; instances: number[] };
    mrSeries: { count: number; studyUid?: string; instances?: number };
    images: { count: number; sopInstanceUids: number };
    peers: { status: number; body: unknown };
    refusals: Record<string, { status: number; message?: string }>;
  };
  retrieve: {
    status: number;
    body: Record<string, unknown>;
    hubQidoInstances: number;
    imagingStudyInstances: number;
    subject?: string;
    wadoParts: number;
    identical: number;
    audited: boolean;
    unknownStudy: { status: number; message?: string };
  };
  agree: { orthanc: { studyUid?: string; patientId?: string; instances?: number }; hub: { studyUid?: string; patientId?: string; instances?: number } };
  ms: Record<string, number>;
}

const CT_STUDY = '1.2.826.0.1.3680043.8.498.15940666650170792163068781369108084574';
const MR_STUDY = '1.2.826.0.1.3680043.8.498.23904356067352728123256330845974725175';
const CT_PATIENT = 'Z-Missing-Slices-Lymphoma';
const MR_PATIENT = 'PACSMAN1';
const REQUEST_TIMEOUT_MS = 20_000;

const { values: args } = parseArgs({ options: { mr: { type: 'string', default: '24' }, deadline: { type: 'string', default: '55' } } });
const mrCount = Number(args.mr);
const deadlineSeconds = Number(args.deadline);

let hub: TestHub | undefined;
let orthanc: TestOrthanc | undefined;
let workDir: string | undefined;
let cleaning: Promise<void> | undefined;

function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    await orthanc?.stop().catch(() => undefined);
    await hub?.close().catch(() => undefined);
    if (workDir) await rm(workDir, { recursive: true, force: true }).catch(() => undefined);
  })();
  return cleaning;
}

async function fail(message: string): Promise<never> {
  process.stdout.write(`ORTHANC-SCENARIO-ERROR ${message.replace(/\n/g, '\n  ')}\n`);
  await cleanup();
  process.exit(1);
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void fail(`stopped by ${signal}`));
const watchdog = setTimeout(() => void fail(`the scenario did not finish within ${deadlineSeconds} s${orthanc ? `; Orthanc's log ends:\n${orthanc.logTail()}` : ''}`), deadlineSeconds * 1000);

const sopOf = (part10: Buffer) => dicomParser.parseDicom(part10, { untilTag: 'x00200013' }).string('x00080018') ?? '';

/** Compares WADO-RS parts with the source files, by SOP Instance UID. */
function compareWithSources(parts: Buffer[], sources: string[]) {
  const bySop = new Map(sources.map((file) => {
    const bytes = readFileSync(file);
    return [sopOf(bytes), datasetOf(bytes)] as const;
  }));
  const result = { identical: 0, identicalWithoutPadding: 0, differing: [] as string[], unknown: [] as string[] };
  for (const part of parts) {
    const sop = sopOf(part);
    const source = bySop.get(sop);
    if (!source) {
      result.unknown.push(sop);
      continue;
    }
    const received = datasetOf(part);
    if (received.equals(source)) result.identical += 1;
    else if (received.equals(withoutTrailingPadding(source))) result.identicalWithoutPadding += 1;
    else result.differing.push(sop);
  }
  return result;
}

async function main(): Promise<ScenarioFacts> {
  const interfaces = Object.entries(networkInterfaces()).filter(([, list]) => list?.some((a) => !a.internal));
  if (interfaces.length) await fail(`refusing to run outside a loopback-only network namespace (interfaces ${interfaces.map(([name]) => name).join(', ')}); run it under unshare -n`);
  const ms: Record<string, number> = {};
  const timed = async <T>(name: string, work: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    try {
      return await work();
    } finally {
      ms[name] = Math.round(performance.now() - started);
    }
  };
  workDir = await mkdtemp(join(tmpdir(), 'suhe-orthanc-scenario-'));
  const ct = dicomFiles('series/ct-10');
  const mr = dicomFiles('series/mr-128').slice(0, mrCount);

  // The hub first: Orthanc's configuration names the hub's DIMSE port.
  const orthancDicomPort = await freePort();
  hub = await timed('hubStart', () =>
    startTestHub('pglite', { dimse: { port: 0, aeTitle: 'SUHE', peers: [{ aeTitle: 'ORTHANC', host: '127.0.0.1', port: orthancDicomPort }], associationTimeoutSeconds: 10, idleTimeoutSeconds: 20 } }),
  );
  const hubDimsePort = hub.hub.dimsePort()!;
  orthanc = await timed('orthancStart', () => startOrthancOn(join(workDir!, 'orthanc'), orthancDicomPort, hubDimsePort));
  const t = hub;
  const o = orthanc;

  const hubFetch = (path: string, init: RequestInit = {}) => t.fetch(`${t.url}${path}`, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  const hubJson = async <T>(path: string, accept = 'application/dicom+json'): Promise<T> => {
    const res = await hubFetch(path, { headers: { accept } });
    if (res.status !== 200) await fail(`GET ${path} on the hub answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
    return (await res.json()) as T;
  };
  const api = async (path: string, body: unknown) => {
    const res = await hubFetch(path, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify(body) });
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = text;
    }
    return { status: res.status, json: json as any, warning: res.headers.get('warning') };
  };
  const rest = async <T>(path: string, init: RequestInit = {}): Promise<T> => {
    const res = await fetch(`${o.url}${path}`, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    if (!res.ok) await fail(`Orthanc ${init.method ?? 'GET'} ${path} answered ${res.status}: ${(await res.text()).slice(0, 300)}\n${o.logTail()}`);
    return (await res.json()) as T;
  };
  const wado = async (study: string) => {
    const res = await hubFetch(`/dicomweb/studies/${study}`, { headers: { accept: 'multipart/related; type="application/dicom"; transfer-syntax=*' } });
    if (res.status !== 200) await fail(`WADO-RS of ${study} answered ${res.status}`);
    return splitMultipart(Buffer.from(await res.arrayBuffer()), res.headers.get('content-type') ?? '').map((p) => p.body);
  };
  const instancesOf = (study: Record<string, any> | undefined) => study?.['00201208']?.Value?.[0] as number | undefined;
  const uid = (m: Record<string, any>, tag: string) => m[tag]?.Value?.[0] as string | undefined;

  // Upload to Orthanc over REST.
  let ctOrthancId = '';
  await timed('upload', async () => {
    for (const file of [...ct, ...mr]) {
      const answer = await rest<{ ParentStudy: string; Status: string }>('/instances', { method: 'POST', headers: { 'content-type': 'application/dicom' }, body: new Uint8Array(readFileSync(file)) });
      if (ct.includes(file)) ctOrthancId = answer.ParentStudy;
    }
  });
  const orthancStudies = (await rest<string[]>('/studies')).length;

  // (a) Orthanc C-STOREs the CT study to the hub.
  const sent = await timed('orthancStore', () => rest<{ InstancesCount: number; FailedInstancesCount: number }>('/modalities/SUHE/store', { method: 'POST', body: JSON.stringify({ Resources: [ctOrthancId], Synchronous: true }) }));
  const [ctOnHub] = await hubJson<Record<string, any>[]>(`/dicomweb/studies?StudyInstanceUID=${CT_STUDY}`);
  const ctParts = await timed('wadoCt', () => wado(CT_STUDY));
  const ctCompared = compareWithSources(ctParts, ct);

  // (b) The hub queries Orthanc.
  const find = (body: unknown) => api('/imaging/peers/ORTHANC/find', body);
  const [byCt, byMr, wildcard, dateRange, series, mrSeries, images] = await timed('find', async () => [
    await find({ level: 'STUDY', query: { PatientID: CT_PATIENT } }),
    await find({ level: 'STUDY', query: { PatientID: MR_PATIENT } }),
    await find({ level: 'STUDY', query: { PatientID: '*S*' } }),
    await find({ query: { StudyDate: '20230101-' } }),
    await find({ level: 'SERIES', query: { Modality: '' } }),
    await find({ level: 'SERIES', query: { Modality: 'MR' } }),
    await find({ level: 'IMAGE', query: { StudyInstanceUID: MR_STUDY }, fields: ['Rows'] }),
  ]);
  for (const [name, answer] of Object.entries({ byCt, byMr, wildcard, dateRange, series, mrSeries, images })) {
    if (answer.status !== 200 || !Array.isArray(answer.json)) await fail(`find (${name}) answered ${answer.status}: ${JSON.stringify(answer.json).slice(0, 400)}`);
  }
  const peers = await hubFetch('/imaging/peers');
  const refusal = async (path: string, body: unknown) => {
    const answer = await api(path, body);
    return { status: answer.status, message: answer.json?.issue?.[0]?.diagnostics as string | undefined };
  };
  const refusals = {
    unknownPeer: await refusal('/imaging/peers/NOWHERE/find', { level: 'STUDY', query: {} }),
    patientLevel: await refusal('/imaging/peers/ORTHANC/find', { level: 'PATIENT', query: {} }),
    badDate: await refusal('/imaging/peers/ORTHANC/find', { query: { StudyDate: 'yesterday' } }),
    unknownKey: await refusal('/imaging/peers/ORTHANC/find', { query: { NoSuchKeyword: 'x' } }),
    numberValue: await refusal('/imaging/peers/ORTHANC/find', { query: { PatientID: 12 } }),
    badUid: await refusal('/imaging/peers/ORTHANC/retrieve', { studyUid: 'not-a-uid' }),
    extraProperty: await refusal('/imaging/peers/ORTHANC/retrieve', { studyUid: MR_STUDY, destination: 'ELSEWHERE' }),
  };

  // (c) The hub retrieves the MR study from Orthanc (C-MOVE to SUHE).
  const moved = await timed('retrieve', () => api('/imaging/peers/ORTHANC/retrieve', { studyUid: MR_STUDY }));
  const [mrOnHub] = await hubJson<Record<string, any>[]>(`/dicomweb/studies?StudyInstanceUID=${MR_STUDY}`);
  const bundle = await hubJson<Bundle<ImagingStudy>>(`/fhir/ImagingStudy?identifier=${encodeURIComponent(`urn:oid:${MR_STUDY}`)}`, 'application/fhir+json');
  const imagingStudy = bundle.entry?.[0]?.resource;
  const mrParts = await timed('wadoMr', () => wado(MR_STUDY));
  const mrCompared = compareWithSources(mrParts, mr);
  await t.hub.audit.flush();
  const events = imagingStudy ? ((await hubJson<Bundle<AuditEvent>>(`/fhir/AuditEvent?entity=ImagingStudy/${imagingStudy.id}&_count=100`, 'application/fhir+json')).entry ?? []).map((e) => e.resource!) : [];
  const audited = events.some((e) => (e.outcomeDesc ?? '').includes('C-MOVE from ORTHANC') && JSON.stringify(e.entity ?? []).includes(imagingStudy!.subject.reference!));
  const unknownStudy = await refusal('/imaging/peers/ORTHANC/retrieve', { studyUid: '1.2.3.4.5.6.7.8.9' });

  // (d) Orthanc's QIDO-RS and the hub's agree on the CT study.
  const [ctAtOrthanc] = await rest<Record<string, any>[]>(`/dicom-web/studies?StudyInstanceUID=${CT_STUDY}`, { headers: { accept: 'application/dicom+json' } });
  const summary = (study: Record<string, any> | undefined) => ({ studyUid: uid(study ?? {}, '0020000D'), patientId: uid(study ?? {}, '00100020'), instances: instancesOf(study) });

  const first = (answer: { json: Record<string, any>[] }) => answer.json[0];
  return {
    orthanc: o.version,
    uploaded: { ct: ct.length, mr: mr.length, orthancStudies },
    store: { orthancSent: sent.InstancesCount, orthancFailed: sent.FailedInstancesCount, hubQidoInstances: instancesOf(ctOnHub) ?? 0, wadoParts: ctParts.length, ...ctCompared },
    find: {
      byPatientIdCt: { count: byCt.json.length, studyUid: uid(first(byCt) ?? {}, '0020000D'), instances: instancesOf(first(byCt)), patientName: first(byCt)?.['00100010']?.Value?.[0]?.Alphabetic },
      byPatientIdMr: { count: byMr.json.length, studyUid: uid(first(byMr) ?? {}, '0020000D'), instances: instancesOf(first(byMr)) },
      wildcard: { query: 'PatientID=*S*', studyUids: (wildcard.json as Record<string, any>[]).map((m) => uid(m, '0020000D')!).sort() },
      dateRange: { query: 'StudyDate=20230101-', studyUids: (dateRange.json as Record<string, any>[]).map((m) => uid(m, '0020000D')!).sort() },
      series: {
        count: series.json.length,
        studyUids: [...new Set((series.json as Record<string, any>[]).map((m) => uid(m, '0020000D')!))].sort(),
        modalities: (series.json as Record<string, any>[]).map((m) => uid(m, '00080060')!).sort(),
        instances: (series.json as Record<string, any>[]).map((m) => m['00201209']?.Value?.[0] as number).sort((a, b) => a - b),
      },
      mrSeries: { count: mrSeries.json.length, studyUid: uid(first(mrSeries) ?? {}, '0020000D'), instances: first(mrSeries)?.['00201209']?.Value?.[0] as number | undefined },
      images: { count: images.json.length, sopInstanceUids: new Set((images.json as Record<string, any>[]).map((m) => uid(m, '00080018'))).size },
      peers: { status: peers.status, body: await peers.json() },
      refusals,
    },
    retrieve: {
      status: moved.status,
      body: moved.json,
      hubQidoInstances: instancesOf(mrOnHub) ?? 0,
      imagingStudyInstances: imagingStudy?.numberOfInstances ?? 0,
      subject: imagingStudy?.subject?.reference,
      wadoParts: mrParts.length,
      identical: mrCompared.identical + mrCompared.identicalWithoutPadding,
      audited,
      unknownStudy,
    },
    agree: { orthanc: summary(ctAtOrthanc), hub: summary(ctOnHub) },
    ms,
  };
}

function startOrthancOn(dir: string, dicomPort: number, hubDimsePort: number): Promise<TestOrthanc> {
  // The hub was configured with Orthanc's DICOM port before Orthanc started.
  return startOrthanc(dir, { aeTitle: 'ORTHANC', modalities: { SUHE: ['SUHE', '127.0.0.1', hubDimsePort] }, startTimeoutMs: 15_000, dicomPort });
}

const started = performance.now();
try {
  const facts = await main();
  facts.ms.total = Math.round(performance.now() - started);
  await cleanup();
  clearTimeout(watchdog);
  process.stdout.write(`ORTHANC-SCENARIO ${JSON.stringify(facts)}\n`);
  process.exit(0);
} catch (err) {
  await fail(`${(err as Error).stack ?? String(err)}${orthanc ? `\nOrthanc's log ends:\n${orthanc.logTail()}` : ''}`);
}
