// The doctor's prescription-signing key on this device (IH-05): an ECDSA P-256 key pair made by
// WebCrypto with a non-extractable private half, kept in this browser's IndexedDB (a CryptoKey
// survives there without ever being exported), per hub and doctor. The public half is registered
// with the hub (Practitioner/{id}/$register-signing-key), which answers the key's id; the hub
// never sees the private key. A new device (or cleared browser data) makes and registers a new
// key, which retires the doctor's earlier keys for new signatures.
import type { AppContext } from '../../app-context.js';
import { operation } from '../hospital-api.js';

export interface DeviceKey {
  privateKey: CryptoKey;
  /** The hub's id of the key (RFC 7638 thumbprint), named in each signature's header. */
  kid: string;
}

const DB_NAME = 'suhe-signing-keys';
const STORE = 'keys';

function openStore(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error ?? new Error('IndexedDB is not available'));
  });
}

async function withStore<T>(mode: IDBTransactionMode, work: (store: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const db = await openStore();
  try {
    return await new Promise<T>((resolve, reject) => {
      const request = work(db.transaction(STORE, mode).objectStore(STORE));
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error ?? new Error('IndexedDB request failed'));
    });
  } finally {
    db.close();
  }
}

/** This device's signing key for the signed-in doctor, made and registered on first use. */
export async function deviceKey(app: AppContext, practitioner: string): Promise<DeviceKey> {
  const name = `${app.hub.fhirBase}|${practitioner}`;
  const stored = await withStore<DeviceKey | undefined>('readonly', (store) => store.get(name));
  if (stored?.privateKey && stored.kid) return stored;
  const pair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
  const { kty, crv, x, y } = await crypto.subtle.exportKey('jwk', pair.publicKey);
  const answer = await operation<{ parameter?: { name: string; valueString?: string }[] }>(app, `${practitioner}/$register-signing-key`, [
    { name: 'key', valueString: JSON.stringify({ kty, crv, x, y }) },
  ]);
  const kid = answer.parameter?.find((p) => p.name === 'kid')?.valueString;
  if (!kid) throw new Error('The hub registered the key but named no key id');
  const key: DeviceKey = { privateKey: pair.privateKey, kid };
  await withStore('readwrite', (store) => store.put(key, name));
  return key;
}

/** Forgets this device's key for the doctor (the hub no longer accepts it): the next use makes a new one. */
export async function forgetDeviceKey(app: AppContext, practitioner: string): Promise<void> {
  await withStore('readwrite', (store) => store.delete(`${app.hub.fhirBase}|${practitioner}`));
}
