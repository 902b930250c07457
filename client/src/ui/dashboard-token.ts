import type { TokenSource } from '../token-keeper';
import { parseFragment, withoutToken } from './fragment-params';

/** Where the tab keeps its token across reloads (sessionStorage: this tab only, gone when it closes). */
export const TOKEN_STORAGE_KEY = 'matomo-live.token';

/**
 * What an embedding page may set before dashboard.js loads (docs/CLIENTS.md,
 * "The dashboard"): a function returning a fresh token, called for each
 * connection and before each signed token's `exp`.
 */
export interface DashboardGlobals {
  matomoLiveTokenProvider?: unknown;
}

/**
 * The page's token, in this order: the embedding page's provider; a
 * `#token=` in the fragment, which is moved out of the address bar (and so
 * out of history, bookmarks and screenshots) into the tab's sessionStorage;
 * the token stored for this tab by an earlier load. undefined: ask for one.
 */
export function takeToken(win: Window & DashboardGlobals): TokenSource | undefined {
  const provider = win.matomoLiveTokenProvider;
  if (typeof provider === 'function') return provider as () => string | Promise<string>;
  const { token } = parseFragment(win.location.hash);
  if (token !== undefined) {
    rememberToken(win, token);
    const { pathname, search } = win.location;
    win.history.replaceState(win.history.state, '', `${pathname}${search}${withoutToken(win.location.hash)}`);
    return token;
  }
  return storage(win)?.getItem(TOKEN_STORAGE_KEY) ?? undefined;
}

/** Keeps a token (from the fragment or the form) for reloads of this tab. */
export function rememberToken(win: Window, token: string): void {
  storage(win)?.setItem(TOKEN_STORAGE_KEY, token);
}

/** Drops the tab's token (the gateway refused it). */
export function forgetToken(win: Window): void {
  storage(win)?.removeItem(TOKEN_STORAGE_KEY);
}

/** sessionStorage, unless the browser refuses it (storage disabled, some sandboxed frames): then nothing is kept. */
function storage(win: Window): Storage | undefined {
  try {
    return win.sessionStorage;
  } catch {
    return undefined;
  }
}
