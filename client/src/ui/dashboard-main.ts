import { LiveClient } from '../live-client';
import type { TokenSource } from '../token-keeper';
import { forgetToken, rememberToken, takeToken } from './dashboard-token';
import { DashboardView } from './dashboard-view';
import { gatewayUrlFor, parseFragment } from './fragment-params';

/**
 * The dashboard's entry point (bundled to dist/dashboard/dashboard.js). The
 * token comes from the embedding page's provider, the URL fragment (then
 * removed from the address bar and kept for the tab), the tab's storage or
 * the form, and is sent only in the WebSocket subprotocol.
 */
/** Most dots on the map, and how many of the latest events a new page asks for to draw the last 30 minutes. */
const MAP_DOTS = 500;
/**
 * After any events_reset (a first connection's start, a `since` too old, events lost upstream: Redis came back
 * empty), events for this long are history being replayed: drawn without the new-visit pulse. Visits the
 * poller marks `history` (re-read after its cursor was lost) are never drawn as new.
 */
const HISTORY_MS = 1500;

function boot(): void {
  const view = new DashboardView(document, { maxDots: MAP_DOTS });
  let client: LiveClient | null = null;
  let historyUntil = 0;
  setInterval(() => view.pruneMap(), 30_000);

  const connect = (token: TokenSource, site: number | undefined) => {
    client?.close();
    client = null;
    // The site's freshness as the new client knows it: none until its first status (on join) shows or hides the banner.
    view.showSiteStatus(() => client?.siteStatus(site));
    view.showTokenForm(false);
    try {
      client = new LiveClient({ url: gatewayUrlFor(location.href), token, site, events: 'visits', rewind: MAP_DOTS });
    } catch (error) {
      view.showStatus({
        state: 'closed',
        attempt: 0,
        reason: error instanceof Error ? error.message.replace(/^matomo-live: /, '') : String(error),
      });
      view.showTokenForm(true);
      return;
    }
    client.on('site_status', () => view.showSiteStatus());
    client.on('snapshot', (snapshot) => view.showSnapshot(snapshot));
    client.on('events_reset', () => {
      historyUntil = Date.now() + HISTORY_MS;
    });
    client.on('visit', (event) => view.showVisit(event.visit, event.visit.history !== true && Date.now() > historyUntil));
    client.on('status', (status) => {
      view.showStatus(status);
      if (status.authFailed) {
        forgetToken(window);
        view.showTokenForm(true);
      }
    });
    client.start();
  };

  const fromFragment = () => {
    const token = takeToken(window);
    const { site } = parseFragment(location.hash);
    if (token !== undefined) connect(token, site);
    else {
      view.showStatus({ state: 'closed', attempt: 0, reason: 'Waiting for a token' });
      view.showTokenForm(true);
    }
  };

  const form = document.getElementById('token-form') as HTMLFormElement;
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const input = document.getElementById('token-input') as HTMLInputElement;
    const token = input.value.trim();
    input.value = '';
    if (!token) return;
    rememberToken(window, token);
    connect(token, parseFragment(location.hash).site);
  });
  window.addEventListener('hashchange', fromFragment);
  fromFragment();
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', boot);
else boot();
