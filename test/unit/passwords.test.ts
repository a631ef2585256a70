import { describe, expect, it } from '@jest/globals';
import {
  constantTimeEqual,
  DEFAULT_SCRYPT,
  DUMMY_HASH,
  hashPassword,
  needsRehash,
  parseHash,
  passwordProblem,
  verifyAgainstDummy,
  verifyPassword,
} from '../../server/src/auth/passwords.js';

// Cheap parameters keep the suite fast; one test checks the production default once.
const FAST = { N: 1024, r: 8, p: 1 };

describe('hashPassword / verifyPassword', () => {
  it('round-trips and rejects a wrong password', async () => {
    const encoded = await hashPassword('Correct-Horse-9', FAST);
    expect(encoded).toMatch(/^scrypt\$1024\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    await expect(verifyPassword('Correct-Horse-9', encoded)).resolves.toBe(true);
    await expect(verifyPassword('Correct-Horse-8', encoded)).resolves.toBe(false);
    await expect(verifyPassword('', encoded)).resolves.toBe(false);
  });

  it('salts every hash', async () => {
    expect(await hashPassword('same', FAST)).not.toBe(await hashPassword('same', FAST));
  });

  it('treats composed and decomposed Unicode as the same password', async () => {
    const encoded = await hashPassword('Caf\u00e9-密码-2024', FAST);
    await expect(verifyPassword('Cafe\u0301-密码-2024', encoded)).resolves.toBe(true);
  });

  it('uses N=2^15, r=8, p=1 by default', async () => {
    const encoded = await hashPassword('Default-Cost-1');
    expect(encoded.startsWith('scrypt$32768$8$1$')).toBe(true);
    await expect(verifyPassword('Default-Cost-1', encoded)).resolves.toBe(true);
    expect(DEFAULT_SCRYPT).toEqual({ N: 32768, r: 8, p: 1 });
  });

  it('reads the parameters from the stored string', async () => {
    const encoded = await hashPassword('Param-Check-1', { N: 2048, r: 4, p: 2 });
    expect(parseHash(encoded)).toMatchObject({ N: 2048, r: 4, p: 2 });
    await expect(verifyPassword('Param-Check-1', encoded)).resolves.toBe(true);
    // Changing the recorded cost changes the derived key, so the parameters really are used.
    await expect(verifyPassword('Param-Check-1', encoded.replace('$2048$4$2$', '$1024$4$2$'))).resolves.toBe(false);
    expect(needsRehash(encoded)).toBe(true);
    expect(needsRehash(await hashPassword('x'))).toBe(false);
  });

  it('returns false, never throws, on malformed encodings', async () => {
    const good = await hashPassword('Malformed-1', FAST);
    const [, , , , salt, hash] = good.split('$');
    const bad = [
      '',
      'scrypt',
      'bcrypt$1024$8$1$' + salt + '$' + hash,
      `scrypt$1000$8$1$${salt}$${hash}`, // N not a power of two
      `scrypt$1024$8$1$${salt}`,
      `scrypt$1024$8$1$${salt}$${hash}$extra`,
      `scrypt$1024$8$1$${salt}$!!notbase64!!`,
      `scrypt$1024$8$1$${salt}$AAAA`, // key too short
      `scrypt$1024$0$1$${salt}$${hash}`,
      `scrypt$-1024$8$1$${salt}$${hash}`,
      `scrypt$1e3$8$1$${salt}$${hash}`,
      `scrypt$${2 ** 30}$8$1$${salt}$${hash}`, // absurd cost from a corrupted row
      `scrypt$1024$8$1$$${hash}`,
      null as unknown as string,
      undefined as unknown as string,
    ];
    for (const encoded of bad) await expect(verifyPassword('Malformed-1', encoded)).resolves.toBe(false);
    await expect(verifyPassword(undefined as unknown as string, good)).resolves.toBe(false);
  });

  it('rejects invalid parameters when hashing', async () => {
    await expect(hashPassword('x', { N: 1000, r: 8, p: 1 })).rejects.toThrow(/scrypt/);
  });
});

describe('dummy verification for unknown users', () => {
  it('is a well-formed hash at the default cost that nothing matches', async () => {
    expect(parseHash(DUMMY_HASH)).toMatchObject(DEFAULT_SCRYPT);
    await expect(verifyAgainstDummy('anything')).resolves.toBe(false);
    await expect(verifyPassword('', DUMMY_HASH)).resolves.toBe(false);
  });
});

describe('passwordProblem', () => {
  it('accepts passwords meeting the policy', () => {
    for (const ok of ['Abcdefgh12', 'abcdefgh1!', 'ABCDEFGH1!', 'Abcdefgh!!', '患者资料Ab1!x9zz', 'correct horse 9']) {
      expect(passwordProblem(ok)).toBeUndefined();
    }
  });

  it('asks for length first, counting characters not bytes', () => {
    expect(passwordProblem('Ab1!')).toBe('Use at least 10 characters (this password has 4).');
    expect(passwordProblem('')).toMatch(/at least 10 characters/);
    expect(passwordProblem('密码密码密码Ab1')).toMatch(/has 9/);
  });

  it('refuses one character repeated', () => {
    expect(passwordProblem('aaaaaaaaaaaa')).toMatch(/single character repeated/);
  });

  it('names the missing character classes', () => {
    expect(passwordProblem('abcdefghijk')).toBe(
      'Use at least three of: lower-case letters, upper-case letters, digits, symbols (add upper-case letters or digits or symbols).',
    );
    expect(passwordProblem('abcdefgh12')).toMatch(/add upper-case letters or symbols/);
    expect(passwordProblem('1234567890')).toMatch(/three of/);
  });
});

describe('constantTimeEqual', () => {
  it('compares secrets of any length', () => {
    expect(constantTimeEqual('s3cret', 's3cret')).toBe(true);
    expect(constantTimeEqual('s3cret', 's3cre')).toBe(false);
    expect(constantTimeEqual('', '')).toBe(true);
    expect(constantTimeEqual('', 'x')).toBe(false);
    expect(constantTimeEqual('x'.repeat(10_000), 'x'.repeat(10_000))).toBe(true);
    expect(constantTimeEqual('密钥', '密钥')).toBe(true);
  });
});
