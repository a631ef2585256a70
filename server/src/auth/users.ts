// People's accounts: residents, doctors, nurses, pharmacists, administrators and the regulator.
// Each account binds a sign-in name and a scrypt password hash to a FHIR identity (fhirUser: the
// resident's Patient, the clinician's Practitioner and PractitionerRole). Residents are real-name
// users (IH-10): their account records the verified identity document. Repeated failures lock
// the account for a while; an unknown name costs the same time as a wrong password and gets the
// same answer, so sign-in does not reveal which names exist.
import { randomUUID } from 'node:crypto';
import type { SqlExecutor } from '../db/database.js';
import { DEFAULT_SCRYPT, hashPassword, needsRehash, passwordProblem, verifyAgainstDummy, verifyPassword, type ScryptParams } from './passwords.js';

export type UserRole = 'resident' | 'doctor' | 'nurse' | 'pharmacist' | 'admin' | 'regulator';
export const USER_ROLES: UserRole[] = ['resident', 'doctor', 'nurse', 'pharmacist', 'admin', 'regulator'];

export interface UserAccount {
  id: string;
  username: string;
  role: UserRole;
  /** Patient/x for residents, Practitioner/y for clinicians, Person or Practitioner for others. */
  fhirUser: string;
  practitionerRole?: string;
  identity?: { system: string; value: string };
}

interface UserRow {
  id: string;
  username: string;
  password_hash: string;
  role: UserRole;
  fhir_user: string;
  practitioner_role: string | null;
  identity_system: string | null;
  identity_value: string | null;
  failed_attempts: number;
  locked_until: Date | string | null;
}

export const LOCKOUT = { attempts: 5, minutes: 15 } as const;

export class UserAccounts {
  constructor(
    private readonly db: SqlExecutor,
    private readonly hashing: ScryptParams = DEFAULT_SCRYPT,
  ) {}

  async create(input: Omit<UserAccount, 'id'> & { password: string }): Promise<UserAccount> {
    if (!/^[\p{L}\p{N}._@-]{3,64}$/u.test(input.username)) throw new Error('username must be 3-64 letters, digits or . _ @ -');
    const weak = passwordProblem(input.password);
    if (weak) throw new Error(weak);
    if (!/^(Patient|Practitioner|PractitionerRole|RelatedPerson|Person)\/[A-Za-z0-9.-]{1,64}$/.test(input.fhirUser)) {
      throw new Error('fhirUser must be a reference such as Patient/123 or Practitioner/abc');
    }
    const id = randomUUID();
    await this.db.query(
      `insert into auth_user (id, username, password_hash, role, fhir_user, practitioner_role, identity_system, identity_value)
       values ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [id, input.username, await hashPassword(input.password, this.hashing), input.role, input.fhirUser, input.practitionerRole ?? null, input.identity?.system ?? null, input.identity?.value ?? null],
    );
    return { ...input, id };
  }

  async get(id: string): Promise<UserAccount | undefined> {
    const [row] = await this.db.query<UserRow>('select * from auth_user where id = $1', [id]);
    return row ? toAccount(row) : undefined;
  }

  /**
   * The account when name and password match and it is not locked; otherwise undefined and a
   * reason meant for the audit trail only (the person sees one generic message).
   */
  async authenticate(username: string, password: string): Promise<{ user?: UserAccount; reason?: string }> {
    const [row] = await this.db.query<UserRow>('select * from auth_user where username = $1', [username]);
    if (!row) {
      await verifyAgainstDummy(password);
      return { reason: 'unknown username' };
    }
    const locked = row.locked_until && new Date(row.locked_until) > new Date();
    const ok = await verifyPassword(password, row.password_hash); // always run: same time either way
    if (locked) return { reason: 'account locked after repeated failures' };
    if (!ok) {
      await this.db.query(
        `update auth_user set failed_attempts = failed_attempts + 1,
           locked_until = case when failed_attempts + 1 >= $2 then now() + make_interval(mins => $3) else locked_until end
         where id = $1`,
        [row.id, LOCKOUT.attempts, LOCKOUT.minutes],
      );
      return { reason: row.failed_attempts + 1 >= LOCKOUT.attempts ? 'wrong password; account now locked' : 'wrong password' };
    }
    if (row.failed_attempts > 0) await this.db.query('update auth_user set failed_attempts = 0, locked_until = null where id = $1', [row.id]);
    // When the scrypt cost has been raised since this hash was made, re-hash now that we hold the password.
    if (needsRehash(row.password_hash, this.hashing)) {
      await this.db.query('update auth_user set password_hash = $2 where id = $1', [row.id, await hashPassword(password, this.hashing)]);
    }
    return { user: toAccount(row) };
  }
}

function toAccount(row: UserRow): UserAccount {
  return {
    id: row.id,
    username: row.username,
    role: row.role,
    fhirUser: row.fhir_user,
    practitionerRole: row.practitioner_role ?? undefined,
    identity: row.identity_system && row.identity_value ? { system: row.identity_system, value: row.identity_value } : undefined,
  };
}

/**
 * The verified identity of the account acting as this FHIR user (e.g. Practitioner/7), if any —
 * through `executor`, so a caller inside a transaction reads within it.
 */
export async function identityOfFhirUser(executor: SqlExecutor, fhirUser: string): Promise<{ system: string; value: string } | undefined> {
  const [row] = await executor.query<{ identity_system: string; identity_value: string }>(
    'select identity_system, identity_value from auth_user where fhir_user = $1 and identity_value is not null order by created_at limit 1',
    [fhirUser],
  );
  return row ? { system: row.identity_system, value: row.identity_value } : undefined;
}
