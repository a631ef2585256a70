// Every EXISTS a search compiles probes the index tables by resource AND parameter
// (`i.res_type = r.type and i.res_id = r.id and i.param = ...`) and then compares a few columns.
// The first indexes held only (res_type, res_id), so a probe read every index row of the
// resource (a patient's Observation has ~30 token rows) and visited the table for each. With
// `param` in the key and the compared columns included, a probe reads only the rows of its
// parameter, from the index alone. Deletes by resource still use the same index's prefix.
const PROBES: [table: string, include: string][] = [
  ['string', 'norm'],
  ['token', 'code, system'],
  ['date', 'lo, hi'],
  ['number', 'value'],
  ['quantity', 'value, code, system'],
  ['reference', 'target_type, target_id'],
  ['uri', 'value'],
  ['composite', 'c0'],
];

export const migration004 = {
  version: 4,
  name: 'index probes by resource and parameter',
  statements: PROBES.flatMap(([t, include]) => [
    `create index idx_${t}_probe on idx_${t} (res_type, res_id, param) include (${include})`,
    `drop index idx_${t}_resource`,
  ]),
};
