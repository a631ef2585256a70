// Jest glue for suites: kept apart from hub.ts so scripts (benchmarks) can start hubs without jest.
import { afterAll, beforeAll } from '@jest/globals';
import type { ConfigOverrides } from '../../server/src/config/config.js';
import { startTestHub, type TestHub } from './hub.js';
import type { Backend } from './parts.js';

/** Starts a hub before the suite's tests and closes it after; the handle is filled in beforeAll. */
export function useTestHub(backend: Backend, overrides: ConfigOverrides = {}): TestHub {
  const handle = {} as TestHub;
  beforeAll(async () => {
    Object.assign(handle, await startTestHub(backend, overrides));
  });
  afterAll(async () => {
    await handle.close?.();
  });
  return handle;
}
