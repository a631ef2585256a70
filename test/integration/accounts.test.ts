// Accounts keep up with the password-hashing cost: a hash made with a lower scrypt cost is
// replaced at the next successful sign-in, when the hub holds the password (SEC-04).
import { describe, expect, it } from '@jest/globals';
import { hashPassword, parseHash, DEFAULT_SCRYPT } from '../../server/src/auth/passwords.js';
import { availableBackends } from '../helpers/parts.js';
import { newPassword } from '../helpers/people.js';
import { useTestHub } from '../helpers/use-hub.js';

const backends = await availableBackends('accounts');

describe.each(backends)('account password hashes on %s', (backend) => {
  // At the production cost (test hubs hash cheaply otherwise): the upgrade goes to DEFAULT_SCRYPT.
  const t = useTestHub(backend, { auth: { passwordHashing: DEFAULT_SCRYPT } });

  it('re-hashes a password stored with a lower scrypt cost at the next successful sign-in, and not after a failed one', async () => {
    const practitioner = await (await t.fetch(`${t.base}/Practitioner`, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify({ resourceType: 'Practitioner', name: [{ family: '周' }] }) })).json() as { id: string };
    const password = newPassword();
    const account = await t.hub.auth.users.create({ username: 'dr.zhou', password, role: 'doctor', fhirUser: `Practitioner/${practitioner.id}` });
    const weak = await hashPassword(password, { N: 1024, r: 8, p: 1 });
    await t.hub.db.query('update auth_user set password_hash = $2 where id = $1', [account.id, weak]);
    const stored = async () => (await t.hub.db.query<{ password_hash: string }>('select password_hash from auth_user where id = $1', [account.id]))[0].password_hash;

    expect((await t.hub.auth.users.authenticate('dr.zhou', 'not the password')).user).toBeUndefined();
    expect(await stored()).toBe(weak);
    expect((await t.hub.auth.users.authenticate('dr.zhou', password)).user?.id).toBe(account.id);
    const upgraded = await stored();
    expect(parseHash(upgraded)?.N).toBe(DEFAULT_SCRYPT.N);
    expect((await t.hub.auth.users.authenticate('dr.zhou', password)).user?.id).toBe(account.id);
  });
});
