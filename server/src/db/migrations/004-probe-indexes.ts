// Every EXISTS a search compiles probes the index tables by resource AND parameter
// (`i.res_type = r.type and i.res_id = r.id and i.param = ...`). The first indexes held only
// (res_type, res_id), so a probe read every index row of the resource (a patient's Observation
// has ~30 token rows) to find the few of one parameter. With `param` in the key the probe reads
// only those; deletes by resource still use the same index's prefix.
const TABLES = ['string', 'token', 'date', 'number', 'quantity', 'reference', 'uri', 'composite'];

export const migration004 = {
  version: 4,
  name: 'index probes by resource and parameter',
  statements: TABLES.flatMap((t) => [
    `create index idx_${t}_probe on idx_${t} (res_type, res_id, param)`,
    `drop index idx_${t}_resource`,
  ]),
};
