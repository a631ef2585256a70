// Token index rows keyed by patient. The commonest clinical search is a code within one patient's
// record (`Observation?code=…&subject=Patient/…`). With token rows keyed only by code, PostgreSQL
// had to intersect a patient's few hundred resources with every resource of the code, one index
// probe per resource (4 ms warm, 9–19 ms with a cold cache, over 2,000 patients). Each token row
// now carries the patient the resource belongs to, and idx_token_search is keyed by it after the
// code and system, so that search is one index range of the matches alone.
//
// The patient of a resource (fhir/index/extract.ts, same rule): the Patient targets of its
// `patient` parameter, or where it has none, of its `subject` parameter. A resource of several
// patients (an Appointment with two) has its token rows once per patient; one of no patient has
// them once, with patient null.

/** The backfill of rows written before this migration (exported so a test can replay it). */
export const PATIENT_KEYED_TOKEN_BACKFILL = [
  `create temporary table token_patient on commit drop as
     select distinct res_type, res_id, target_id as patient from idx_reference
      where param = 'patient' and target_type = 'Patient' and target_id is not null
     union
     select distinct s.res_type, s.res_id, s.target_id from idx_reference s
      where s.param = 'subject' and s.target_type = 'Patient' and s.target_id is not null
        and not exists (select 1 from idx_reference p where p.res_type = s.res_type and p.res_id = s.res_id
                         and p.param = 'patient' and p.target_type = 'Patient')`,
  'create index on token_patient (res_type, res_id)',
  `insert into idx_token (res_type, res_id, param, system, code, display, patient)
     select t.res_type, t.res_id, t.param, t.system, t.code, t.display, p.patient
       from idx_token t join token_patient p on p.res_type = t.res_type and p.res_id = t.res_id
      where t.patient is null`,
  `delete from idx_token t using (select distinct res_type, res_id from token_patient) p
    where t.patient is null and p.res_type = t.res_type and p.res_id = t.res_id`,
];

export const migration011 = {
  version: 11,
  name: 'patient-keyed token rows',
  statements: [
    'alter table idx_token add column patient text',
    ...PATIENT_KEYED_TOKEN_BACKFILL,
    'drop index idx_token_search',
    // patient last: a code (and system) alone still reads one range, with patient only the matches.
    // A code without its system within one patient reads the code's range (system is not bound).
    'create index idx_token_search on idx_token (res_type, param, code, system, patient) include (res_id)',
  ],
};
