// Names for generated statements whose text repeats: a search compiles to one SQL text per shape
// (which parameters, modifiers and options; the values travel as parameters), and a clinical
// front end asks a few dozen shapes over and over. Sent unnamed, PostgreSQL parses and plans the
// text on every request, which for a one-patient search costs more than running it (measured on
// the search benchmark's database: 1.3 ms a round trip unnamed, 0.5 ms prepared). Named, each
// pooled connection prepares it once and reuses the plan.
//
// The names are bounded: the first MAX_NAMED_SHAPES distinct texts of the process get one, later
// ones run unnamed as before, so a client that invents endless shapes cannot make every pooled
// connection hold endless prepared statements.
import { createHash } from 'node:crypto';

export const MAX_NAMED_SHAPES = 500;

const names = new Map<string, string>();

/** A stable statement name for `sql`, or undefined once MAX_NAMED_SHAPES texts have one. */
export function shapeStatementName(sql: string): string | undefined {
  const known = names.get(sql);
  if (known !== undefined || names.size >= MAX_NAMED_SHAPES) return known;
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
