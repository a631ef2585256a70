// Names for generated statements whose text repeats: a search compiles to one SQL text per shape
// (which parameters, modifiers and options; the values travel as parameters), and a clinical
// front end asks a few dozen shapes over and over. Sent unnamed, PostgreSQL parses and plans the
// text on every request, which for a one-patient search costs more than running it (measured on
// the search benchmark's database: 1.3 ms a round trip unnamed, 0.5 ms prepared). Named, each
// pooled connection prepares it once and reuses the plan.
//
// The names are bounded: only MAX_NAMED_SHAPES texts of the process get one, later ones run
// unnamed as before, so a client that invents endless shapes cannot make every pooled connection
// hold endless prepared statements. A prepared name search with its plan took 200 kB of a
// PostgreSQL backend's memory (pg_backend_memory_contexts), so the bound is 100 shapes: at most
// 20 MB per pooled connection, 200 MB for the pool of 10, and far less for the few dozen shapes a
// front end asks. A text is named at its NAME_AFTER-th run, so that one-off searches do not use up
// the names before the shapes that repeat.
import { createHash } from 'node:crypto';

export const MAX_NAMED_SHAPES = 100;
export const NAME_AFTER = 3;
/** Texts counted but not yet named; forgotten all at once beyond this many. */
const MAX_COUNTED = 10_000;

const names = new Map<string, string>();
const runs = new Map<string, number>();

/** A stable statement name for `sql` once it has run NAME_AFTER times; undefined before, and for texts beyond the bound. */
export function shapeStatementName(sql: string): string | undefined {
  const known = names.get(sql);
  if (known !== undefined || names.size >= MAX_NAMED_SHAPES) return known;
  const seen = (runs.get(sql) ?? 0) + 1;
  if (seen < NAME_AFTER) {
    if (runs.size >= MAX_COUNTED) runs.clear();
    runs.set(sql, seen);
    return undefined;
  }
  runs.delete(sql);
  // From the text itself, so a restarted hub gives a shape the same name (and pg_stat_statements
  // and the logs one label per shape).
  const name = `suhe_shape_${createHash('sha1').update(sql).digest('hex').slice(0, 20)}`;
  names.set(sql, name);
  return name;
}

/** How many texts have a name so far (for tests of the bound). */
export function namedShapeCount(): number {
  return names.size;
}
