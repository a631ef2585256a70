// The page of a search whose one condition is a positive index filter, in the default order
// (creation, `seq`): `Encounter?subject.name=zhang`, `Patient?name=li`.
//
// The general page query probes `resource` once per match for its seq, then keeps the first
// page: 2,469 probes (13 ms) for a family name shared by 122 patients, to return 21 rows. The
// planner estimates one match for such a filter and never considers the other way, which is to
// walk the type in seq order and stop at the first page of matches: when matches are common the
// walk is short (54 Encounters for those 2,469 matches). So this statement builds the set of
// matches once from the index rows (which also gives the count, instead of a second pass over
// the chain), walks at most WALK_ROWS_PER_MATCH rows per match, and only when the walk did not
// fill the page probes as before. The walk's membership test is kept out of a join (`in (...) is
// true` is a hashed subplan, tested per row) so that the planner cannot turn it back into the
// probing plan. Cursors are the same as the general statement's (no sort keys, the last seq).
import type { SearchRequest } from './model.js';
import type { SqlParams } from './values.js';

/**
 * Rows walked per match before giving up on the walk. A walked row is read from the (type, seq)
 * index alone (migration 013), several times cheaper than a probe (0.6 against 9 µs on the
 * benchmark database), so a walk that fails adds about a quarter to the probes' work. It runs
 * only when the page will be full.
 */
const WALK_ROWS_PER_MATCH = 4;

/**
 * The statement for `request` whose matches are the `i.res_id` of `indexRows` (`from ... where
 * ...`, see where.ts matchingIndexRows); `afterSeq` is the cursor's seq on later pages. Rows:
 * content, seq_text, and `total` when `withTotal` (null on a first page that is not full).
 */
export function matchSetPage(request: SearchRequest, indexRows: string, params: SqlParams, afterSeq: string | undefined, withTotal: boolean): string {
  const type = params.add(request.resourceType);
  const after = afterSeq === undefined ? '' : ` and r.seq > ${params.add(afterSeq)}::bigint`;
  const count = params.add(request.count);
  const limit = params.add(request.count + 1);
  const walk = `select s.type, s.id, s.seq from (select r.type, r.id, r.seq, r.deleted from resource r where r.type = ${type}${after}
     order by r.seq limit (select ${WALK_ROWS_PER_MATCH} * matches from n)) s
   where (select matches from n) > ${count} and not s.deleted and (s.id in (select res_id from m)) is true
   order by s.seq limit ${limit}`;
  const probe = `select r.type, r.id, r.seq from resource r where r.type = ${type} and not r.deleted${after} and r.id in (select res_id from m)
   order by r.seq limit ${limit}`;
  const needed = afterSeq === undefined ? `(select count(*) from p) > ${count}` : 'true';
  const total = withTotal ? `, case when ${needed} then (select matches::int from n) end as total` : '';
  // The matches are counted once (n): the walk's bound, its gate and the total all read it.
  return `with m as materialized (select distinct i.res_id ${indexRows}),
 n as materialized (select count(*) as matches from m),
 w as materialized (${walk}),
 p as materialized (select type, id, seq from w where (select count(*) from w) > ${count}
   union all select type, id, seq from (${probe}) probed where (select count(*) from w) <= ${count})
select r.content::text as content, p.seq::text as seq_text${total} from p join resource r on r.type = p.type and r.id = p.id
 order by p.seq`;
}
