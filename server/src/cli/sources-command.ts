// `suhe sources add|list|remove|sync|status`: the federation's source registry from the shell.
// Secrets (client secret or bearer token) come from SUHE_SOURCE_SECRET, never from an argument
// (arguments end up in the shell history and the process list).
import type { Hub } from '../app.js';
import type { SourceAuth } from '../federation/source.js';
import type { ParsedArgs } from './args.js';

type Say = (line: string) => void;

const USAGE = `usage:
  suhe sources add NAME --url FHIR_BASE [--organization Organization/ID | --organization-name NAME]
                   [--types Patient,Observation,...] [--auth none|client-credentials|bearer] [--client-id ID]
                   [--scope 'system/*.rs'] [--schedule MINUTES] [--concurrency N] [--rate PER_SECOND]
                   [--page-size N] [--push-client CLIENT_ID] [--no-bulk]  (secret or token in SUHE_SOURCE_SECRET;
                   --no-bulk: page through searches even where the source offers $export)
  suhe sources list
  suhe sources remove NAME
  suhe sources sync NAME | --all
  suhe sources status NAME`;

export async function sourcesCommand(hub: Hub, args: ParsedArgs, env: NodeJS.ProcessEnv, say: Say): Promise<number> {
  const [action, name] = args.positional;
  const flag = (key: string) => (typeof args.flags.get(key) === 'string' ? (args.flags.get(key) as string) : undefined);
  const number = (key: string) => {
    const v = flag(key);
    if (v === undefined) return undefined;
    if (!/^\d+(\.\d+)?$/.test(v)) throw new Error(`--${key} must be a number, got '${v}'`);
    return Number(v);
  };
  const registry = hub.federation.sources;
  switch (action) {
    case 'add': {
      if (!name) throw new Error(`sources add needs a NAME\n${USAGE}`);
      const url = flag('url');
      if (!url) throw new Error(`sources add needs --url (the source's FHIR base)\n${USAGE}`);
      const organization = flag('organization');
      const source = await registry.add({
        name,
        baseUrl: url,
        organization,
        organizationName: flag('organization-name'),
        types: flag('types')?.split(',').map((t) => t.trim()).filter(Boolean),
        auth: flag('auth') as SourceAuth | undefined,
        clientId: flag('client-id'),
        scope: flag('scope'),
        secret: env.SUHE_SOURCE_SECRET,
        scheduleMinutes: number('schedule'),
        concurrency: number('concurrency'),
        ratePerSecond: number('rate'),
        pageSize: number('page-size'),
        pushClient: flag('push-client'),
        bulk: !args.flags.has('no-bulk'),
      });
      say(`Added source ${source.name}: Endpoint/${source.endpointId} for ${source.organization}, ${source.baseUrl} (${source.types.length} types, auth ${source.auth}${source.scheduleMinutes ? `, every ${source.scheduleMinutes} min` : ', on demand'}).`);
      return 0;
    }
    case 'list': {
      const { sources, problems } = await registry.list();
      if (!sources.length) say('No sources. Add one with: suhe sources add NAME --url FHIR_BASE');
      for (const s of sources) {
        say(`${s.name}\t${s.status}\tEndpoint/${s.endpointId}\t${s.organization}\t${s.baseUrl}\tauth=${s.auth}\t${s.scheduleMinutes ? `every ${s.scheduleMinutes} min` : 'on demand'}${s.pushClient ? `\tpush-client=${s.pushClient}` : ''}`);
      }
      for (const p of problems) say(`problem: ${p}`);
      return problems.length ? 1 : 0;
    }
    case 'remove': {
      if (!name) throw new Error(`sources remove needs a NAME\n${USAGE}`);
      const source = await registry.remove(name);
      say(`Removed source ${source.name} (Endpoint/${source.endpointId}). What was received from it stays, with its Provenance.`);
      return 0;
    }
    case 'sync': {
      const all = args.flags.has('all');
      if (!name && !all) throw new Error(`sources sync needs a NAME or --all\n${USAGE}`);
      const results = all ? await hub.federation.syncAll({ onProgress: say }) : [await hub.federation.sync(name!, { onProgress: say })];
      return results.some((r) => r.status !== 'ok') ? 1 : 0;
    }
    case 'status': {
      if (!name) throw new Error(`sources status needs a NAME\n${USAGE}`);
      const status = await registry.status(name);
      const s = status.source;
      say(`${s.name} (${s.status}) Endpoint/${s.endpointId} ${s.baseUrl}`);
      say(`  ${status.mapped} records held, ${status.quarantined} quarantined`);
      for (const run of status.lastRuns) {
        say(`  ${run.kind} ${run.startedAt} ${run.status}: ${run.fetched} fetched, ${run.stored} stored, ${run.unchanged} unchanged, ${run.deleted} deleted, ${run.quarantined} quarantined${run.error ? ` — ${run.error}` : ''}`);
      }
      for (const c of status.checkpoints) say(`  checkpoint ${c.type}: ${c.lastUpdated ?? '(none yet)'}`);
      for (const q of status.recentQuarantine) say(`  quarantined ${q.type ?? '?'}/${q.sourceId ?? '?'} at ${q.receivedAt}: ${q.reason}`);
      return 0;
    }
    default:
      throw new Error(USAGE);
  }
}
