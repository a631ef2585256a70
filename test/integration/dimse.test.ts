// The DIMSE service with DCMTK as the real peer, on both adapters: C-ECHO and association
// rejection, C-STORE of real series and compressed/big-endian objects (the data set bytes must
// arrive untouched), C-FIND at every level of both models, C-GET and C-MOVE back out byte for
// byte, refusals that keep nothing, and peers that send garbage.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { AuditEvent, Bundle, ImagingStudy } from '@medplum/fhirtypes';
import dicomParser from 'dicom-parser';
import { listBlobKeys, type FileBlobStore } from '../../server/src/imaging/blob-store.js';
import { DICOM_DATA, dicomFiles, withoutTrailingPadding } from '../helpers/dicom.js';
import { availableBackends, dcmtkUnavailable, REQUIRE_ALL, type Backend } from '../helpers/parts.js';
import { useTestHub } from '../helpers/use-hub.js';
import { freePort } from '../helpers/ports.js';

const missing = await dcmtkUnavailable();
if (missing && REQUIRE_ALL) throw new Error(`dimse: SUHE_TEST_REQUIRE_ALL=1 but ${missing}`);
if (missing) process.stdout.write(`SKIPPED (dimse): ${missing}\n`);
const backends = missing ? [] : await availableBackends('dimse');

const CT = dicomFiles('series/ct-10');
const MR = dicomFiles('series/mr-128');
const CT_STUDY = '1.2.826.0.1.3680043.8.498.15940666650170792163068781369108084574';
// Objects in other transfer syntaxes, each with the storescu option that proposes its own syntax.
const SYNTAXES: { file: string; propose: string; syntax: string }[] = [
  { file: join(DICOM_DATA, 'syntaxes/pydicom/MR_small_RLE.dcm'), propose: '-xr', syntax: '1.2.840.10008.1.2.5' },
  { file: join(DICOM_DATA, 'syntaxes/cornerstone/CTImage.dcm_JPEGProcess14SV1TransferSyntax_1.2.840.10008.1.2.4.70.dcm'), propose: '-xs', syntax: '1.2.840.10008.1.2.4.70' },
  { file: join(DICOM_DATA, 'parser/CT1_UNC.explicit_big_endian.dcm'), propose: '-xb', syntax: '1.2.840.10008.1.2.2' },
];
const MALFORMED = join(DICOM_DATA, 'malformed/oob-rows-65535.dcm');
const TOO_LARGE = join(DICOM_DATA, 'syntaxes/pydicom/MR2_UNCR.dcm');
const IMPLICIT_LE = '1.2.840.10008.1.2';
const CT_IMAGE_STORAGE = '1.2.840.10008.5.1.4.1.1.2';

interface Run {
  code: number;
  out: string;
}

/** Runs a DCMTK tool; never rejects. DCMTK leaves Nagle on unless TCP_NODELAY=1 (40 ms per message otherwise). */
function dcmtk(tool: string, args: string[], timeoutMs = 60_000): Promise<Run> {
  return new Promise((resolve) => {
    const started = Date.now();
    execFile(tool, args, { timeout: timeoutMs, env: { ...process.env, TCP_NODELAY: '1' }, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = !err ? 0 : typeof err.code === 'number' ? err.code : -1;
      // A tool killed (by the timeout) loses what it had buffered for a pipe: say so, or its output
      // looks cut off for no reason.
      const killed = err?.signal ? `\n[${tool} ended by ${err.signal} after ${Date.now() - started} ms${err.killed ? `; the limit was ${timeoutMs} ms` : ''}]` : '';
      resolve({ code, out: `${stdout}${stderr}${killed}` });
    });
  });
}


/** The data set bytes of a Part 10 object: after the meta group, whose length (0002,0000) gives. */
function datasetOf(part10: Buffer): Buffer {
  expect(part10.toString('latin1', 128, 132)).toBe('DICM');
  expect(part10.readUInt32LE(132)).toBe(0x00000002); // (0002,0000) comes first
  return part10.subarray(132 + 12 + part10.readUInt32LE(140));
}


function uidsOf(file: string): { study: string; series: string; instance: string; syntax: string } {
  const bytes = readFileSync(file);
  const parsed = dicomParser.parseDicom(bytes, { untilTag: 'x00200013' });
  return { study: parsed.string('x0020000d')!, series: parsed.string('x0020000e')!, instance: parsed.string('x00080018')!, syntax: parsed.string('x00020010')! };
}

/** The response identifiers in findscu -v output: tag (gggg,eeee) → value as printed. */
function findResponses(out: string): { responses: Map<string, string>[]; final?: string } {
  const responses: Map<string, string>[] = [];
  let current: Map<string, string> | undefined;
  let final: string | undefined;
  for (const line of out.split('\n')) {
    if (/Find Response: \d+ \(Pending\)/.test(line)) {
      current = new Map();
      responses.push(current);
      continue;
    }
    const end = /Received Final Find Response \((.*)\)/.exec(line);
    if (end) {
      final = end[1];
      current = undefined;
    }
    const element = current && /^I: \(([0-9a-f]{4}),([0-9a-f]{4})\) [A-Z]{2} (.*?)\s+#\s*\d+,/.exec(line);
    if (!element || !current) continue;
    const printed = element[3];
    // DCMTK prints values with their padding (a space, or the NUL after an odd-length UID).
    const value = printed.startsWith('[') ? printed.slice(1, printed.lastIndexOf(']')).replace(/[\0\s]+$/, '') : printed.startsWith('(no value') ? '' : printed.replace(/^=/, '');
    current.set(`${element[1]},${element[2]}`.toUpperCase(), value);
  }
  return { responses, final };
}

/** A-ASSOCIATE-RQ for one presentation context, written by hand (PS3.8 9.3.2). */
function associateRequest(called: string, calling: string, abstractSyntax: string, transferSyntax: string): Buffer {
  const u16 = (n: number) => Buffer.from([n >> 8, n & 0xff]);
  const u32 = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    return b;
  };
  const item = (type: number, body: Buffer) => Buffer.concat([Buffer.from([type, 0]), u16(body.length), body]);
  const ae = (title: string) => Buffer.from(title.padEnd(16, ' '), 'latin1');
  const context = item(0x20, Buffer.concat([Buffer.from([1, 0, 0, 0]), item(0x30, Buffer.from(abstractSyntax)), item(0x40, Buffer.from(transferSyntax))]));
  const user = item(0x50, Buffer.concat([item(0x51, u32(16384)), item(0x52, Buffer.from('1.2.3.4.5'))]));
  const body = Buffer.concat([u16(1), Buffer.alloc(2), ae(called), ae(calling), Buffer.alloc(32), item(0x10, Buffer.from('1.2.840.10008.3.1.1.1')), context, user]);
  return Buffer.concat([Buffer.from([0x01, 0]), u32(body.length), body]);
}

/** One P-DATA-TF PDU with one PDV (flags: bit 0 command, bit 1 last fragment). */
function pData(contextId: number, flags: number, value: Buffer): Buffer {
  const pdv = Buffer.alloc(6);
  pdv.writeUInt32BE(value.length + 2, 0);
  pdv[4] = contextId;
  pdv[5] = flags;
  const head = Buffer.alloc(6);
  head[0] = 0x04;
  head.writeUInt32BE(pdv.length + value.length, 2);
  return Buffer.concat([head, pdv, value]);
}

/** A C-STORE-RQ command set in implicit VR little endian (PS3.7 9.3.1.1). */
function cStoreCommand(sopClass: string, sopInstance: string): Buffer {
  const element = (tag: number, value: Buffer) => {
    const head = Buffer.alloc(8);
    head.writeUInt16LE(0x0000, 0);
    head.writeUInt16LE(tag, 2);
    head.writeUInt32LE(value.length, 4);
    return Buffer.concat([head, value]);
  };
  const uid = (text: string) => Buffer.from(text.length % 2 ? `${text}\0` : text, 'latin1');
  const us = (n: number) => Buffer.from([n & 0xff, n >> 8]);
  const body = Buffer.concat([element(0x0002, uid(sopClass)), element(0x0100, us(0x0001)), element(0x0110, us(7)), element(0x0700, us(0)), element(0x0800, us(0x0000)), element(0x1000, uid(sopInstance))]);
  const length = Buffer.alloc(4);
  length.writeUInt32LE(body.length);
  return Buffer.concat([element(0x0000, length), body]);
}

/** Runs `steps` on a fresh connection, then waits up to `waitCloseMs` for the hub to close it. */
function rawExchange(port: number, steps: (socket: Socket, received: () => Buffer) => Promise<void>, waitCloseMs: number): Promise<{ closedByHub: boolean; ms: number }> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const chunks: Buffer[] = [];
    const socket = connect(port, '127.0.0.1');
    let closedByUs = false;
    let timer: NodeJS.Timeout | undefined;
    let closed = false;
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      closed = true;
      clearTimeout(timer);
      resolve({ closedByHub: !closedByUs, ms: Date.now() - started });
    });
    socket.on('connect', () => {
      steps(socket, () => Buffer.concat(chunks))
        .then(() => {
          if (closed) return;
          timer = setTimeout(() => {
            closedByUs = true;
            socket.destroy();
          }, waitCloseMs);
        })
        .catch(reject);
    });
  });
}

const until = async (check: () => boolean | Promise<boolean>, ms: number) => {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return check();
};

const destinationPorts = new Map<string, number>();
for (const backend of backends) destinationPorts.set(backend, await freePort());

// Without DCMTK the suite is listed as skipped (jest refuses an empty table).
(missing ? describe.skip.each<Backend>(['pglite']) : describe.each<Backend>(backends))('DIMSE on %s', (backend) => {
  const destinationPort = destinationPorts.get(backend)!;
  const t = useTestHub(backend, {
    dimse: {
      port: 0,
      aeTitle: 'SUHE',
      peers: [
        { aeTitle: 'PEER', host: '127.0.0.1', port: 0 },
        { aeTitle: 'DEST', host: '127.0.0.1', port: destinationPort },
      ],
      associationTimeoutSeconds: 2,
      // Above every test object but MR2_UNCR.dcm (2 MB).
      maxObjectBytes: 1_500_000,
    },
  });
  const port = () => String(t.hub.dimsePort());
  const scu = (tool: string, ...args: string[]) => dcmtk(tool, ['-aet', 'PEER', '-aec', 'SUHE', ...args, '127.0.0.1', port()]);
  const store = (...args: string[]) => dcmtk('storescu', ['-aet', 'PEER', '-aec', 'SUHE', '127.0.0.1', port(), ...args]);
  const find = async (...args: string[]) => {
    const run = await scu('findscu', '-v', ...args);
    return { ...findResponses(run.out), code: run.code, out: run.out };
  };
  const json = async (path: string) => {
    const res = await t.fetch(`${t.url}${path}`, { headers: { accept: 'application/dicom+json, application/fhir+json' } });
    expect({ path, status: res.status }).toEqual({ path, status: 200 });
    return (await res.json()) as any;
  };
  const instanceCount = async () => ((await t.hub.db.query<{ n: number }>('select count(*)::int as n from dicom_instance'))[0].n);
  const staging = () => readdir(join((t.hub.imaging.blobs as FileBlobStore).root, 'staging'));
  const expectSameDatasets = async (dir: string, sources: string[]) => {
    const bySop = new Map(sources.map((f) => [uidsOf(f).instance, withoutTrailingPadding(datasetOf(readFileSync(f)))]));
    const names = await readdir(dir);
    expect(names).toHaveLength(sources.length);
    for (const name of names) {
      const bytes = await readFile(join(dir, name));
      const sop = dicomParser.parseDicom(bytes, { untilTag: 'x00200013' }).string('x00080018')!;
      expect({ name, known: bySop.has(sop) }).toEqual({ name, known: true });
      expect({ name, same: datasetOf(bytes).equals(bySop.get(sop)!) }).toEqual({ name, same: true });
    }
  };
  let workDir: string;

  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'suhe-dimse-test-'));
  });
  afterAll(async () => {
    await rm(workDir, { recursive: true, force: true });
  });

  it('C-ECHO answers a configured peer and rejects unknown calling and called AE titles, auditing the refusals', async () => {
    expect((await scu('echoscu')).code).toBe(0);
    const stranger = await dcmtk('echoscu', ['-aet', 'STRANGER', '-aec', 'SUHE', '127.0.0.1', port()]);
    expect(stranger.code).not.toBe(0);
    expect(stranger.out).toMatch(/Calling AE Title Not Recognized/i);
    const wrongCalled = await dcmtk('echoscu', ['-aet', 'PEER', '-aec', 'NOT-SUHE', '127.0.0.1', port()]);
    expect(wrongCalled.code).not.toBe(0);
    expect(wrongCalled.out).toMatch(/Called AE Title Not Recognized/i);
    await t.hub.audit.flush();
    const denied = (await json('/fhir/AuditEvent?outcome=4&_count=100')) as Bundle<AuditEvent>;
    const text = JSON.stringify(denied.entry ?? []);
    expect(text).toContain('dimse:STRANGER');
    expect(text).toMatch(/calling AE title 'STRANGER' is not a configured peer/);
  });

  it('C-STORE keeps each data set exactly as sent, in its own transfer syntax, and links the study', async () => {
    const before = await instanceCount();
    const ct = await store(...CT);
    expect(ct.code).toBe(0);
    for (const { file, propose } of SYNTAXES) {
      const run = await store(propose, file);
      expect({ file, code: run.code }).toEqual({ file, code: 0 });
    }
    const started = Date.now();
    const mr = await store(...MR);
    const seconds = (Date.now() - started) / 1000;
    expect(mr.code).toBe(0);
    process.stdout.write(`dimse (${backend}): storescu of ${MR.length} MR instances in ${seconds.toFixed(2)} s = ${(MR.length / seconds).toFixed(0)} instances/s\n`);
    expect(await instanceCount()).toBe(before + CT.length + SYNTAXES.length + MR.length);

    const [study] = await json(`/dicomweb/studies?StudyInstanceUID=${CT_STUDY}`);
    expect(study['00201208'].Value[0]).toBe(CT.length);
    for (const file of [CT[0], CT[CT.length - 1], ...SYNTAXES.map((s) => s.file)]) {
      const ids = uidsOf(file);
      const res = await t.fetch(`${t.url}/dicomweb/studies/${ids.study}/series/${ids.series}/instances/${ids.instance}`, { headers: { accept: 'application/dicom; transfer-syntax=*' } });
      expect({ file, status: res.status }).toEqual({ file, status: 200 });
      const stored = Buffer.from(await res.arrayBuffer());
      const meta = dicomParser.readPart10Header(stored);
      expect({ file, syntax: meta.string('x00020010') }).toEqual({ file, syntax: ids.syntax });
      expect(meta.string('x00020016')).toBe('PEER');
      const sent = withoutTrailingPadding(datasetOf(readFileSync(file)));
      expect({ file, identical: datasetOf(stored).equals(sent) }).toEqual({ file, identical: true });
    }

    // The ImagingStudy is refreshed before the release is answered; the store is audited with its patient.
    const bundle = (await json(`/fhir/ImagingStudy?identifier=${encodeURIComponent(`urn:oid:${CT_STUDY}`)}`)) as Bundle<ImagingStudy>;
    const imagingStudy = bundle.entry![0].resource!;
    expect(imagingStudy.numberOfInstances).toBe(CT.length);
    expect(imagingStudy.subject.reference).toMatch(/^Patient\//);
    await t.hub.audit.flush();
    const events = ((await json(`/fhir/AuditEvent?entity=ImagingStudy/${imagingStudy.id}&_count=100`)) as Bundle<AuditEvent>).entry!.map((e) => e.resource!);
    const created = events.filter((e) => e.action === 'C' && JSON.stringify(e.agent).includes('dimse:PEER'));
    expect(created.length).toBeGreaterThan(0);
    expect(JSON.stringify(created[0].entity)).toContain(imagingStudy.subject.reference);
  });

  it('C-FIND at STUDY level returns the stored studies with exactly the keys asked for', async () => {
    const { responses, final, code } = await find('-S', '-k', 'QueryRetrieveLevel=STUDY', '-k', 'PatientID=', '-k', 'StudyInstanceUID=', '-k', 'NumberOfStudyRelatedInstances=', '-k', 'ModalitiesInStudy=');
    expect(code).toBe(0);
    expect(final).toBe('Success');
    const byUid = new Map(responses.map((r) => [r.get('0020,000D'), r]));
    const ct = byUid.get(CT_STUDY)!;
    expect(ct).toBeDefined();
    expect(ct.get('0020,1208')).toBe(String(CT.length));
    expect(ct.get('0008,0061')).toBe('CT');
    expect(ct.get('0010,0020')).toBe('Z-Missing-Slices-Lymphoma');
    for (const { file } of SYNTAXES) expect(byUid.has(uidsOf(file).study)).toBe(true);
    // Asked for, plus Specific Character Set, Query/Retrieve Level and Retrieve AE Title.
    expect([...ct.keys()].sort()).toEqual(['0008,0005', '0008,0052', '0008,0054', '0008,0061', '0010,0020', '0020,000D', '0020,1208']);
    expect(ct.get('0008,0054')).toBe('SUHE');
    expect(ct.get('0008,0005')).toBe('ISO_IR 192');
  });

  it('C-FIND at SERIES and IMAGE level, within a study', async () => {
    const series = await find('-S', '-k', 'QueryRetrieveLevel=SERIES', '-k', `StudyInstanceUID=${CT_STUDY}`, '-k', 'SeriesInstanceUID=', '-k', 'Modality=', '-k', 'NumberOfSeriesRelatedInstances=');
    expect(series.final).toBe('Success');
    expect(series.responses).toHaveLength(1);
    expect(series.responses[0].get('0008,0060')).toBe('CT');
    expect(series.responses[0].get('0020,1209')).toBe(String(CT.length));
    expect(series.responses[0].get('0020,000E')).toBe(uidsOf(CT[0]).series);
    const images = await find('-S', '-k', 'QueryRetrieveLevel=IMAGE', '-k', `StudyInstanceUID=${CT_STUDY}`, '-k', 'SOPInstanceUID=', '-k', 'InstanceNumber=', '-k', 'Rows=', '-k', 'SliceThickness=');
    expect(images.final).toBe('Success');
    expect(images.responses.map((r) => r.get('0008,0018')).sort()).toEqual(CT.map((f) => uidsOf(f).instance).sort());
    expect(images.responses[0].get('0028,0010')).toBe('512');
    // Not an index column: answered from the instance's stored metadata.
    expect(images.responses[0].get('0018,0050')).toMatch(/^\d/);
  });

  it('C-FIND in the Patient Root model at PATIENT level, and wildcard matching', async () => {
    const patients = await find('-P', '-k', 'QueryRetrieveLevel=PATIENT', '-k', 'PatientID=Z-Missing-Slices-Lymphoma', '-k', 'PatientName=', '-k', 'NumberOfPatientRelatedStudies=', '-k', 'NumberOfPatientRelatedInstances=');
    expect(patients.final).toBe('Success');
    expect(patients.responses).toHaveLength(1);
    expect(patients.responses[0].get('0020,1200')).toBe('1');
    expect(patients.responses[0].get('0020,1204')).toBe(String(CT.length));
    const all = await find('-P', '-k', 'QueryRetrieveLevel=PATIENT', '-k', 'PatientID=');
    expect(all.responses.length).toBeGreaterThanOrEqual(4);
    const wild = await find('-S', '-k', 'QueryRetrieveLevel=STUDY', '-k', 'PatientName=CompressedSamples*', '-k', 'StudyInstanceUID=');
    expect(wild.final).toBe('Success');
    expect(wild.responses.map((r) => r.get('0020,000D')).sort()).toEqual([uidsOf(SYNTAXES[0].file).study, uidsOf(SYNTAXES[2].file).study].sort());
    const none = await find('-S', '-k', 'QueryRetrieveLevel=STUDY', '-k', 'PatientID=NOBODY*', '-k', 'StudyInstanceUID=');
    expect(none.final).toBe('Success');
    expect(none.responses).toHaveLength(0);
  });

  it('C-FIND refuses a malformed identifier with a failure status, and the association stays usable', async () => {
    const bad = await find('-S', '-k', 'QueryRetrieveLevel=STUDY', '-k', 'StudyDate=yesterday');
    expect(bad.final).toMatch(/DataSetDoesNotMatchSOPClass|Error/);
    expect(bad.responses).toHaveLength(0);
    const noLevel = await find('-S', '-k', 'PatientID=');
    expect(noLevel.final).toMatch(/Error/);
    expect((await scu('echoscu')).code).toBe(0);
  });

  it('C-GET sends a study back on the same association, each data set byte for byte', async () => {
    const dir = await mkdtemp(join(workDir, 'get-'));
    const run = await scu('getscu', '-S', '+B', '-od', dir, '-k', 'QueryRetrieveLevel=STUDY', '-k', `StudyInstanceUID=${CT_STUDY}`);
    expect(run.code).toBe(0);
    await expectSameDatasets(dir, CT);
  });

  describe('C-MOVE', () => {
    let storescp: ChildProcess;
    let received: string;
    beforeAll(async () => {
      received = await mkdtemp(join(workDir, 'moved-'));
      storescp = spawn('storescp', ['--aetitle', 'DEST', '+B', '+xa', '-od', received, String(destinationPort)], { env: { ...process.env, TCP_NODELAY: '1' }, stdio: 'ignore' });
      const up = await until(async () => (await dcmtk('echoscu', ['-aet', 'PEER', '-aec', 'DEST', '127.0.0.1', String(destinationPort)], 2000)).code === 0, 10_000);
      expect(up).toBe(true);
    });
    afterAll(async () => {
      if (storescp.exitCode === null) {
        const exited = new Promise((resolve) => storescp.once('exit', resolve));
        storescp.kill('SIGTERM');
        await exited;
      }
    });

    it('stores the matches on the destination peer, byte for byte, and audits the read', async () => {
      const run = await scu('movescu', '-v', '-S', '-aem', 'DEST', '-k', 'QueryRetrieveLevel=STUDY', '-k', `StudyInstanceUID=${CT_STUDY}`);
      expect(run.code).toBe(0);
      expect(run.out).toMatch(/Received Final Move Response \(Success\)/);
      await expectSameDatasets(received, CT);
      // A single compressed instance, moved in the syntax it is kept in.
      const jpeg = uidsOf(SYNTAXES[1].file);
      const image = await scu('movescu', '-v', '-S', '-aem', 'DEST', '-k', 'QueryRetrieveLevel=IMAGE', '-k', `StudyInstanceUID=${jpeg.study}`, '-k', `SeriesInstanceUID=${jpeg.series}`, '-k', `SOPInstanceUID=${jpeg.instance}`);
      expect(image.out).toMatch(/Received Final Move Response \(Success\)/);
      expect(await readdir(received)).toHaveLength(CT.length + 1);
      await t.hub.audit.flush();
      const bundle = (await json(`/fhir/ImagingStudy?identifier=${encodeURIComponent(`urn:oid:${CT_STUDY}`)}`)) as Bundle<ImagingStudy>;
      const events = ((await json(`/fhir/AuditEvent?entity=ImagingStudy/${bundle.entry![0].resource!.id}&_count=100`)) as Bundle<AuditEvent>).entry!.map((e) => e.resource!);
      expect(events.some((e) => e.action === 'R' && (e.outcomeDesc ?? '').includes('C-MOVE to DEST') && JSON.stringify(e.agent).includes('dimse:PEER'))).toBe(true);
    });

    it('refuses an unknown destination, and a peer that may call but is no destination', async () => {
      for (const destination of ['NOWHERE', 'PEER']) {
        const run = await scu('movescu', '-v', '-S', '-aem', destination, '-k', 'QueryRetrieveLevel=STUDY', '-k', `StudyInstanceUID=${CT_STUDY}`);
        expect({ destination, refused: /Final Move Response \(Refused: MoveDestinationUnknown\)/.test(run.out) }).toEqual({ destination, refused: true });
      }
    });
  });

  it('refuses a malformed object, and one over the size limit, with a failure status and keeps nothing of them', async () => {
    const store_ = t.hub.imaging.blobs as FileBlobStore;
    const blobs = (await listBlobKeys(store_.root)).length;
    const rows = await instanceCount();
    // DCMTK's own timeouts (connect, association, DIMSE) end a stuck exchange with a message of its
    // own, well before the helper's limit would kill it.
    const timeouts = ['-to', '20', '-ta', '20', '-td', '20'];
    const run = await dcmtk('storescu', ['-v', ...timeouts, '-aet', 'PEER', '-aec', 'SUHE', '127.0.0.1', port(), MALFORMED]);
    expect(run.code).not.toBe(0);
    expect(run.out).toMatch(/Received Store Response \(Error: DataSetDoesNotMatchSOPClass\)/);
    const large = await dcmtk('storescu', ['-d', ...timeouts, '-aet', 'PEER', '-aec', 'SUHE', '127.0.0.1', port(), TOO_LARGE]);
    expect(large.code).not.toBe(0);
    expect(large.out).toMatch(/DIMSE Status\s+: 0xa700/);
    expect(large.out).toMatch(/exceeds the hub's limit/);
    expect((await listBlobKeys(store_.root)).length).toBe(blobs);
    expect(await instanceCount()).toBe(rows);
    expect(await staging()).toEqual([]);
  });

  it('drops peers that send garbage, oversized or truncated PDUs, or nothing, and keeps serving', async () => {
    const hubPort = Number(port());
    const rows = await instanceCount();
    // Not DICOM at all.
    const garbage = await rawExchange(hubPort, async (s) => void s.write('GET / HTTP/1.1\r\nHost: suhe\r\n\r\n'), 5000);
    expect(garbage).toMatchObject({ closedByHub: true });
    // An A-ASSOCIATE-RQ header claiming 4 GB.
    const huge = Buffer.alloc(6 + 64);
    huge[0] = 0x01;
    huge.writeUInt32BE(0xfffffff0, 2);
    expect(await rawExchange(hubPort, async (s) => void s.write(huge), 5000)).toMatchObject({ closedByHub: true });
    // Half a PDU, then silence: the association timeout (2 s here) ends it.
    const half = associateRequest('SUHE', 'PEER', '1.2.840.10008.1.1', IMPLICIT_LE).subarray(0, 40);
    const silent = await rawExchange(hubPort, async (s) => void s.write(half), 8000);
    expect(silent.closedByHub).toBe(true);
    expect(silent.ms).toBeLessThan(7000);
    // An accepted association whose C-STORE breaks off in the middle of the data set.
    const source = readFileSync(CT[0]);
    const ids = uidsOf(CT[0]);
    await rawExchange(
      hubPort,
      async (s, received) => {
        s.write(associateRequest('SUHE', 'PEER', CT_IMAGE_STORAGE, '1.2.840.10008.1.2.1'));
        expect(await until(() => received().length > 0, 15_000)).toBe(true);
        expect(received()[0]).toBe(0x02); // A-ASSOCIATE-AC
        s.write(pData(1, 0x03, cStoreCommand(CT_IMAGE_STORAGE, ids.instance)));
        const dataset = datasetOf(source);
        for (let at = 0; at < dataset.length / 2; at += 16000) s.write(pData(1, 0x00, dataset.subarray(at, at + 16000)));
        await new Promise((r) => setTimeout(r, 300));
      },
      0,
    );
    expect(await until(async () => (await staging()).length === 0, 15_000)).toBe(true);
    // A rejected peer that sends a C-STORE anyway: nothing of it is kept.
    const rejected = await rawExchange(
      hubPort,
      async (s, received) => {
        s.write(associateRequest('SUHE', 'STRANGER', CT_IMAGE_STORAGE, '1.2.840.10008.1.2.1'));
        expect(await until(() => received().length > 0, 15_000)).toBe(true);
        expect(received()[0]).toBe(0x03); // A-ASSOCIATE-RJ
        s.write(Buffer.concat([pData(1, 0x03, cStoreCommand(CT_IMAGE_STORAGE, '1.2.3.4.5.6.7')), pData(1, 0x02, datasetOf(readFileSync(MR[0])))]));
      },
      5000,
    );
    expect(rejected.closedByHub).toBe(true);
    expect(await instanceCount()).toBe(rows);
    expect(await staging()).toEqual([]);
    expect((await scu('echoscu')).code).toBe(0);
  });
});
