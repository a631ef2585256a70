// Pure rules of the insurance credential and the insured area (MI-02, MI-03): checking a credential
// by type, its masked display and digest (an e-voucher token is never stored in clear), and which
// way a resident settles given where they are insured.
import { createHash } from 'node:crypto';
import { parseResidentId } from '../../fhir/identity/resident-id.js';
import type { CredentialType } from './codes.js';

/** Province-level codes of GB/T 2260 (the first two digits of an administrative division code). */
const PROVINCES = new Set(['11', '12', '13', '14', '15', '21', '22', '23', '31', '32', '33', '34', '35', '36', '37', '41', '42', '43', '44', '45', '46', '50', '51', '52', '53', '54', '61', '62', '63', '64', '65', '71', '81', '82']);

export type Checked = { ok: true; value: string } | { ok: false; reason: string };

/** The credential normalised, or why it is not one of its type. */
export function checkCredential(type: CredentialType, raw: string): Checked {
  const value = raw.trim();
  if (type === '01') {
    // An e-voucher token (the QR code's content): opaque, printable, no spaces.
    return /^[A-Za-z0-9+/=_.:-]{16,512}$/.test(value) ? { ok: true, value } : { ok: false, reason: 'MI-02: an e-voucher token is 16 to 512 characters of letters, digits and + / = _ . : -' };
  }
  if (type === '02') {
    const parsed = parseResidentId(value);
    return parsed.ok ? { ok: true, value: parsed.normalized } : { ok: false, reason: `MI-02: not a valid resident ID number: ${parsed.reason}` };
  }
  const card = value.toUpperCase();
  return /^[A-Z0-9]{9,20}$/.test(card) ? { ok: true, value: card } : { ok: false, reason: 'MI-02: a social-security card number is 9 to 20 letters and digits' };
}

/** What may be shown of a credential: its last four characters, the rest masked. */
export function maskCredential(value: string): string {
  const shown = value.length > 8 ? 4 : Math.min(2, value.length);
  return '*'.repeat(Math.max(value.length - shown, 4)) + value.slice(value.length - shown);
}

/** SHA-256 (hex) of the credential with its type: how it is matched without being kept. */
export function credentialDigest(type: CredentialType, value: string): string {
  return createHash('sha256').update(`${type}:${value}`).digest('hex');
}

/** Why a 6-digit administrative division code is not one, or undefined when it is. */
export function areaCodeProblem(code: string): string | undefined {
  if (!/^\d{6}$/.test(code)) return 'MI-03: the insured area is a 6-digit administrative division code (GB/T 2260), e.g. 310104';
  if (!PROVINCES.has(code.slice(0, 2))) return `MI-03: ${code} names no province (its first two digits)`;
  return undefined;
}

export type SettlementRoute = 'in-area' | 'direct' | 'at-institution';

/**
 * MI-03: insured in the hub's province → settled in area; in another province of the direct
 * settlement list (the Yangtze River Delta) → settled directly; elsewhere → at the institution.
 */
export function settlementRoute(areaCode: string, rules: { insuranceHomeProvince: string; directSettlementProvinces: readonly string[] }): SettlementRoute {
  const province = areaCode.slice(0, 2);
  if (province === rules.insuranceHomeProvince) return 'in-area';
  return rules.directSettlementProvinces.includes(province) ? 'direct' : 'at-institution';
}

/** Whether a diagnosis code is one of the chronic diseases (a code equal to, or under, a listed one). */
export function isChronic(code: string | undefined, chronicCodes: readonly string[]): boolean {
  if (!code) return false;
  const c = code.toUpperCase();
  return chronicCodes.some((listed) => c === listed.toUpperCase() || c.startsWith(listed.toUpperCase()));
}

/** Money rounded to the fen. */
export const fen = (amount: number): number => Math.round(amount * 100) / 100;
