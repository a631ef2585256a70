// Configuration that security depends on: the bootstrap admin client exists only when both of its
// variables are set, and settings that would weaken the baseline are refused at start (SEC-05).
import { describe, expect, it } from '@jest/globals';
import { loadConfig } from '../../server/src/config/config.js';

describe('security-related configuration', () => {
  it('has no bootstrap client unless SUHE_BOOTSTRAP_CLIENT_ID and _SECRET are both set', () => {
    expect(loadConfig({}, {}).bootstrapClient).toBeUndefined();
    const env = { SUHE_BOOTSTRAP_CLIENT_ID: 'ops', SUHE_BOOTSTRAP_CLIENT_SECRET: 'a-long-enough-secret-value' };
    expect(loadConfig({}, env).bootstrapClient).toEqual({ clientId: 'ops', secret: 'a-long-enough-secret-value' });
    expect(() => loadConfig({}, { SUHE_BOOTSTRAP_CLIENT_ID: 'ops' })).toThrow(/both/);
    expect(() => loadConfig({}, { SUHE_BOOTSTRAP_CLIENT_ID: 'ops', SUHE_BOOTSTRAP_CLIENT_SECRET: 'short' })).toThrow(/at least 16/);
  });

  it('refuses an audit retention under six months (SEC-05) and reads the CORS allow-list', () => {
    expect(loadConfig({}, {}).auditRetentionDays).toBe(183);
    expect(() => loadConfig({}, { SUHE_AUDIT_RETENTION_DAYS: '30' })).toThrow(/183/);
    expect(loadConfig({}, { SUHE_CORS_ORIGINS: 'https://viewer.example.cn, https://app.example.cn' }).corsOrigins).toEqual(['https://viewer.example.cn', 'https://app.example.cn']);
    expect(loadConfig({}, {}).corsOrigins).toEqual([]);
  });
});
