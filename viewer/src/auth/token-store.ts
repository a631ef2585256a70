// Where the sign-in lives: sessionStorage only — it survives a reload of this tab and dies with
// it, is never shared with other tabs, and is never written to disk by the viewer (no
// localStorage, no cookies). The pending request (state, PKCE verifier) is kept the same way
// across the round trip to the sign-in page.
export interface StoredTokens {
  accessToken: string;
  /** Epoch milliseconds. */
  expiresAt: number;
  refreshToken?: string;
  fhirUser?: string;
}

export interface PendingSignIn {
  state: string;
  verifier: string;
  /** The viewer route (#/...) to return to after signing in. */
  returnTo: string;
}

const TOKENS = 'suhe.viewer.tokens';
const PENDING = 'suhe.viewer.pending';

function read<T>(key: string): T | undefined {
  try {
    const text = sessionStorage.getItem(key);
    return text ? (JSON.parse(text) as T) : undefined;
  } catch {
    return undefined;
  }
}

export const tokenStore = {
  tokens: () => read<StoredTokens>(TOKENS),
  saveTokens: (tokens: StoredTokens) => sessionStorage.setItem(TOKENS, JSON.stringify(tokens)),
  clearTokens: () => sessionStorage.removeItem(TOKENS),
  pending: () => read<PendingSignIn>(PENDING),
  savePending: (pending: PendingSignIn) => sessionStorage.setItem(PENDING, JSON.stringify(pending)),
  clearPending: () => sessionStorage.removeItem(PENDING),
};
