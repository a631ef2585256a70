// FHIR Bulk Data export (system level, `GET [base]/$export`): a job runs in the background and
// writes each type's current resources as NDJSON files under the data directory, in creation
// order, read straight from the stored JSON text (no parse). The job's owner polls its status and
// downloads the files with the same token. Finished jobs and their files are removed after a day.
import { randomUUID } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../audit/logger.js';
import type { Database } from '../../db/database.js';
import type { Actor } from '../access/access-control.js';
import type { AuditTrail } from '../access/audit-trail.js';
import type { PatientCompartment } from '../access/compartment.js';
import { NotFound } from '../errors.js';

export interface ExportRequest {
  types: string[];
  since?: string;
  /** The kick-off URL as the client sent it (echoed in the manifest). */
  requestUrl: string;
}

export interface ExportOutput {
  type: string;
  /** File name under the job (the manifest turns it into a URL). */
  file: string;
  count: number;
}

export interface ExportJob {
  id: string;
  clientId: string;
  status: 'in-progress' | 'completed' | 'failed' | 'cancelled';
  request: string;
  transactionTime: string;
  output: ExportOutput[];
  progress?: string;
  error?: string;
}

const BATCH = 1000;
const RESOURCES_PER_FILE = 50_000;
const KEEP_MS = 24 * 3600_000;

export class BulkExports {
  private readonly running = new Map<string, { cancelled: boolean; done: Promise<void> }>();

  constructor(
    private readonly db: Database,
    private readonly root: string,
    private readonly compartment: PatientCompartment,
    private readonly logger: Logger,
    private readonly audit?: AuditTrail,
  ) {}

  async start(actor: Actor, request: ExportRequest): Promise<ExportJob> {
    await this.removeExpired();
    const id = randomUUID();
    // What changed at or after this instant may or may not be in the files: the next export with
    // _since=transactionTime gets it again (the spec's contract for incremental exports).
    const [{ now }] = await this.db.query<{ now: string }>(`select to_char(now() at time zone 'utc', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as now`);
    await this.db.query(
      'insert into bulk_export_job (id, client_id, status, request, types, since, transaction_time) values ($1, $2, $3, $4, $5, $6, $7)',
      [id, actor.clientId ?? 'unknown', 'in-progress', request.requestUrl, request.types, request.since ?? null, now],
    );
    const state = { cancelled: false, done: Promise.resolve() };
    state.done = this.run(id, actor, request, state).finally(() => this.running.delete(id));
    this.running.set(id, state);
    return (await this.job(id, actor.clientId))!;
  }

  /** The job, if it exists and belongs to this client (another client's job is not revealed). */
  async job(id: string, clientId: string | undefined): Promise<ExportJob | undefined> {
    const [row] = await this.db.query<{ id: string; client_id: string; status: ExportJob['status']; request: string; transaction_time: string; output: ExportOutput[]; progress: string | null; error: string | null }>(
      'select * from bulk_export_job where id = $1',
      [id],
    );
    if (!row || row.client_id !== (clientId ?? 'unknown')) return undefined;
    return { id: row.id, clientId: row.client_id, status: row.status, request: row.request, transactionTime: row.transaction_time, output: row.output, progress: row.progress ?? undefined, error: row.error ?? undefined };
  }

  /** The path of one of the job's files, once the job is complete. */
  async file(id: string, clientId: string | undefined, name: string): Promise<string> {
    const job = await this.job(id, clientId);
    if (!job || job.status !== 'completed' || !job.output.some((o) => o.file === name)) throw new NotFound(`No file ${name} in export ${id}`);
    const path = join(this.root, id, name);
    await stat(path).catch(() => {
      throw new NotFound(`The files of export ${id} are gone (exports are kept ${KEEP_MS / 3600_000} hours)`);
    });
    return path;
  }

  /** Stops a running job and removes its files (the spec's DELETE on the status URL). */
  async cancel(id: string, clientId: string | undefined): Promise<void> {
    if (!(await this.job(id, clientId))) throw new NotFound(`No export ${id}`);
    const running = this.running.get(id);
    if (running) {
      running.cancelled = true;
      await running.done;
    }
    await this.db.query(`update bulk_export_job set status = 'cancelled', finished_at = coalesce(finished_at, now()) where id = $1`, [id]);
    await rm(join(this.root, id), { recursive: true, force: true });
  }

  async close(): Promise<void> {
    for (const state of this.running.values()) state.cancelled = true;
    await Promise.allSettled([...this.running.values()].map((s) => s.done));
  }

  private async run(id: string, actor: Actor, request: ExportRequest, state: { cancelled: boolean }): Promise<void> {
    const dir = join(this.root, id);
    const output: ExportOutput[] = [];
    const patients = new Set<string>();
    try {
      await mkdir(dir, { recursive: true });
      for (const type of request.types) {
        let after = '0';
        let file: { name: string; stream: WriteStream; count: number } | undefined;
        for (;;) {
          if (state.cancelled) return;
          const rows = await this.db.query<{ content: string; id: string; position: string }>(
            `select content::text as content, id, seq::text as position from resource
              where type = $1 and not deleted and seq > $2::bigint and ($3::timestamptz is null or last_updated > $3::timestamptz)
              order by seq limit $4`,
            [type, after, request.since ?? null, BATCH],
          );
          if (!rows.length) break;
          for (const row of rows) {
            if (!file || file.count >= RESOURCES_PER_FILE) {
              if (file) await finish(file.stream);
              const name = `${type}-${output.filter((o) => o.type === type).length + 1}.ndjson`;
              file = { name, stream: createWriteStream(join(dir, name)), count: 0 };
              output.push({ type, file: name, count: 0 });
            }
            if (!file.stream.write(`${row.content}\n`)) await new Promise<void>((resolve) => file!.stream.once('drain', () => resolve()));
            file.count++;
            output[output.length - 1].count = file.count;
          }
          after = rows[rows.length - 1].position;
          for (const p of await this.patientsOf(type, rows.map((r) => r.id))) patients.add(p);
          await this.db.query('update bulk_export_job set progress = $2 where id = $1', [id, `${type}: ${output.filter((o) => o.type === type).reduce((n, o) => n + o.count, 0)} resources`]);
        }
        if (file) await finish(file.stream);
      }
      await this.db.query(`update bulk_export_job set status = 'completed', output = $2, progress = null, finished_at = now() where id = $1`, [id, JSON.stringify(output)]);
      this.audit?.record(actor, { kind: 'operation', outcome: 'success', patients: [...patients], query: `$export job=${id} _type=${request.types.join(',')}${request.since ? ` _since=${request.since}` : ''}` });
    } catch (err) {
      this.logger.error('bulk export failed', { job: id, error: (err as Error).message });
      await this.db.query(`update bulk_export_job set status = 'failed', error = $2, finished_at = now() where id = $1`, [id, (err as Error).message]).catch(() => undefined);
    }
  }

  /** The patients whose data a batch holds, for the audit record (PI-09). */
  private async patientsOf(type: string, ids: string[]): Promise<string[]> {
    if (type === 'Patient') return ids;
    if (!this.compartment.includes(type)) return [];
    const rows = await this.db.query<{ target_id: string }>(
      `select distinct target_id from idx_reference where res_type = $1 and res_id = any($2::text[]) and target_type = 'Patient' and param = any($3::text[]) and target_id is not null`,
      [type, ids, this.compartment.params(type)],
    );
    return rows.map((r) => r.target_id);
  }

  private async removeExpired(): Promise<void> {
    const old = await this.db.query<{ id: string }>(`delete from bulk_export_job where finished_at < now() - ($1::int * interval '1 millisecond') returning id`, [KEEP_MS]);
    for (const { id } of old) await rm(join(this.root, id), { recursive: true, force: true });
  }
}

function finish(stream: WriteStream): Promise<void> {
  return new Promise((resolve, reject) => {
    stream.once('error', reject);
    stream.end(resolve);
  });
}
