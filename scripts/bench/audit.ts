// `npm run bench:audit [-- --postgres URL] [--patients N] [--answers N] [--rounds N] [--no-docs]`
//
// What auditing one answer that names many patients costs to store: a QIDO-RS answer of 100
// studies or a search of 20 Patients writes one AuditEvent per patient (BALP) plus one with the
// query. Two ways of storing the same events are timed in alternation on one database, in the
// hub's own code: each event created on its own (serialised and indexed one by one: the baseline)
// and the events as one family (FhirRepository.createFamily: one template serialised and indexed,
// each member copied). Reported per answer: the hub's CPU, the database's CPU (its backends, from
// /proc) and the wall time of the transaction, and the family's figures over the baseline's.
// Results go to docs/PERFORMANCE.md ("## Audit storage benchmark") unless --no-docs.
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { AuditEvent } from '@medplum/fhirtypes';
import pg from 'pg';
import { createHub } from '../../server/src/app.js';
import { buildAuditEvent, type AuditInput } from '../../server/src/audit/balp.js';
import { createLogger } from '../../server/src/audit/logger.js';
import { PATIENT_SLOT } from '../../server/src/audit/trail.js';
import { loadConfig } from '../../server/src/config/config.js';
import { cpuOfPids, cpuDelta } from './cpu.js';
import { writeDocSubsection } from './doc-section.js';
import { mdTable, textTable } from './report.js';
import { createThrowawayDatabase, type ThrowawayDatabase } from './throwaway-database.js';

const { values: args } = parseArgs({
  options: {
    postgres: { type: 'string' },
    patients: { type: 'string', default: '100' },
    answers: { type: 'string', default: '20' },
    rounds: { type: 'string', default: '6' },
    'no-docs': { type: 'boolean', default: false },
  },
});
const patientsPerAnswer = Number(args.patients);
const answersPerRound = Number(args.answers);
const rounds = Number(args.rounds);
const say = (line: string) => process.stdout.write(`${line}\n`);

const DOC = join(import.meta.dirname, '../../docs/PERFORMANCE.md');
const SECTION = '## Audit storage benchmark';
const INTRO = `\`npm run bench:audit\` (scripts/bench/audit.ts) times storing the AuditEvents of answers that
name many patients (one per patient, BALP, plus one with the query), each event created on its own
(the baseline) and as one family (\`FhirRepository.createFamily\`), alternating on one database. Options:
\`--postgres URL\` (a throwaway database there; else in-memory PGlite, where the database's CPU is
the hub's), \`--patients N\` (100), \`--answers N\` per round (20), \`--rounds N\` (6), \`--no-docs\`.`;

interface Sample {
  hubMs: number;
  dbMs: number;
  wallMs: number;
}

async function main(): Promise<void> {
  let database: ThrowawayDatabase | undefined;
  if (args.postgres) {
    database = await createThrowawayDatabase(args.postgres, 'suhe_bench_audit');
    say(`Created database ${database.name} (dropped at the end)`);
  }
  const backend = database ? 'PostgreSQL' : 'PGlite';
  say(`Audit storage benchmark: ${os.cpus().length} cores, Node ${process.version}, ${backend}; ${rounds} rounds × ${answersPerRound} answers × ${patientsPerAnswer} patients, per way`);
  const config = loadConfig({ port: 0, host: '127.0.0.1', databaseUrl: database?.url }, {});
  const hub = await createHub(database ? config : { ...config, dataDir: 'memory://' }, { logger: createLogger('error', true) });
  const monitor = database ? new pg.Client({ connectionString: database.url }) : undefined;
  await monitor?.connect();
  const dbPids = async () => (monitor ? (await monitor.query<{ pid: number }>('select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()')).rows.map((r) => r.pid) : []);
  try {
    const input = (n: number): AuditInput => ({
      action: 'search',
      outcome: 'success',
      recorded: new Date().toISOString(),
      observer: { display: 'Suhe hub', base: 'urn:suhe:hub' },
      client: { id: 'bench-viewer', address: '127.0.0.1' },
      user: { reference: 'Practitioner/bench-radiologist', role: 'doctor' },
      tokenId: `jti-${n}`,
      resource: { type: 'ImagingStudy' },
      dicomEvent: 'query',
    });
    const patients = (n: number) => Array.from({ length: patientsPerAnswer }, (_, k) => `bench-${n}-${k}`);
    const ways = {
      'each on its own (baseline)': async (n: number) => {
        const events = patients(n).map((p) => buildAuditEvent({ ...input(n), patients: [p] }));
        await hub.repo.transaction(async (tx) => {
          for (const event of events) await tx.create(event, undefined, { trusted: true });
        });
      },
      'as one family': async (n: number) => {
        const template = buildAuditEvent({ ...input(n), patients: [PATIENT_SLOT] }) as AuditEvent;
        await hub.repo.transaction((tx) => tx.createFamily(template, PATIENT_SLOT, patients(n), { trusted: true }));
      },
    };
    const samples = new Map<string, Sample[]>(Object.keys(ways).map((k) => [k, []]));
    let n = 0;
    for (const way of Object.values(ways)) await way(n++); // warm up both
    for (let round = 1; round <= rounds; round++) {
      for (const [name, way] of Object.entries(ways)) {
        const pids = await dbPids();
        const db0 = cpuOfPids(pids);
        const cpu0 = process.cpuUsage();
        const started = performance.now();
        for (let i = 0; i < answersPerRound; i++) await way(n++);
        const wall = performance.now() - started;
        const cpu = process.cpuUsage(cpu0);
        samples.get(name)!.push({ hubMs: (cpu.user + cpu.system) / 1000 / answersPerRound, dbMs: cpuDelta(db0, cpuOfPids(pids)) / answersPerRound, wallMs: wall / answersPerRound });
      }
      say(`  round ${round}/${rounds} done`);
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const [baseline, family] = [...samples.values()].map((s) => ({ hubMs: median(s.map((x) => x.hubMs)), dbMs: median(s.map((x) => x.dbMs)), wallMs: median(s.map((x) => x.wallMs)) }));
    const fmt = (ms: number) => (Number.isFinite(ms) ? `${ms.toFixed(2)} ms` : '—');
    const ratio = (a: number, b: number) => (b > 0 && Number.isFinite(a) ? `${(a / b).toFixed(2)}×` : '—');
    const header = ['way of storing one answer\'s events', 'hub CPU', 'database CPU', 'wall (transaction)'];
    const rows = [
      [[...samples.keys()][0], fmt(baseline.hubMs), database ? fmt(baseline.dbMs) : '—', fmt(baseline.wallMs)],
      [[...samples.keys()][1], fmt(family.hubMs), database ? fmt(family.dbMs) : '—', fmt(family.wallMs)],
      ['family ÷ baseline', ratio(family.hubMs, baseline.hubMs), database ? ratio(family.dbMs, baseline.dbMs) : '—', ratio(family.wallMs, baseline.wallMs)],
    ];
    say(`\nPer answer of ${patientsPerAnswer} patients (${patientsPerAnswer} AuditEvents), median of ${rounds} rounds of ${answersPerRound} answers:\n${textTable(header, rows)}`);
    if (!args['no-docs']) {
      const [version] = database ? (await hub.db.query<{ v: string }>('select version() as v')).map((r) => r.v.split(',')[0]) : ['PGlite (in memory)'];
      const load = os.loadavg()[0].toFixed(2);
      const body = [
        `Measured ${new Date().toISOString()} by \`npm run bench:audit${database ? ' -- --postgres <url>' : ''}\` (scripts/bench/audit.ts).`,
        '',
        `- Machine: ${os.cpus().length} cores, Node ${process.version}, load average ${load} at the end; database ${version}${database ? ' (a throwaway database)' : ''}`,
        `- Each answer: ${patientsPerAnswer} BALP query AuditEvents (a QIDO-RS query by a radiologist's viewer), one per patient, stored in one transaction; ${rounds} rounds of ${answersPerRound} answers per way, the two ways alternating; medians of the rounds`,
        `- Database CPU: the hub's PostgreSQL backends (/proc), PostgreSQL only`,
        '',
        mdTable(header, rows),
      ].join('\n');
      writeDocSubsection(DOC, SECTION, INTRO, `### Results on ${backend}`, body);
      say(`\nWritten to docs/PERFORMANCE.md (${SECTION}, ### Results on ${backend}).`);
    }
  } finally {
    await monitor?.end();
    await hub.close();
    await database?.drop();
  }
}

await main();
