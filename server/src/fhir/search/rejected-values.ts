// PostgreSQL's own checks on the values a search binds: a value that passed parsing can still not
// fit its SQL type (a hand-edited cursor date, a number beyond numeric's range). Those are the
// client's values, so the answer is a 400 that says which, not a 500.
import { Invalid } from '../errors.js';

/** SQLSTATE classes caused by the statement's inputs: data exception, program limit exceeded. */
const DATA_EXCEPTION = '22';
const PROGRAM_LIMIT_EXCEEDED = '54';

export async function rejectingUnfitValues<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    const message = (err as Error).message;
    if (typeof code === 'string' && code.startsWith(DATA_EXCEPTION)) throw new Invalid(`A value of this search does not fit: ${message}`);
    if (typeof code === 'string' && code.startsWith(PROGRAM_LIMIT_EXCEEDED)) throw new Invalid(`This search is too large to run (${message}): use fewer parameters or values`);
    throw err;
  }
}
