// The resource table had two B-trees on (type, id): the primary key, and resource_keys (unique,
// carrying seq and deleted for index-only paging, migration 005). Every insert of a resource paid
// for both — an AuditEvent is inserted for nearly every request — and no lookup needed the narrow
// one. resource_keys becomes the primary key and the other index goes.
export const migration012 = {
  version: 12,
  name: 'one key index on resource',
  statements: [
    'alter table resource drop constraint resource_pkey, add constraint resource_keys primary key using index resource_keys',
  ],
};
