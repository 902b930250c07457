/** What the dashboard reads from its URL fragment, which browsers never send to a server. */
export interface FragmentParams {
  token?: string;
  site?: number;
}

/** "#token=abc&site=2" → { token: 'abc', site: 2 }; unknown or malformed entries are ignored. */
export function parseFragment(hash: string): FragmentParams {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  const result: FragmentParams = {};
  const token = params.get('token');
  if (token) result.token = token;
  const site = Number(params.get('site'));
  if (Number.isSafeInteger(site) && site > 0) result.site = site;
  return result;
}

/**
 * The gateway's WebSocket endpoint for a page it served: `ws` next to the
 * `dashboard/` directory, so a proxy that mounts the gateway under a path
 * prefix (/live/dashboard/ → /live/ws) keeps working.
 */
export function gatewayUrlFor(pageUrl: string): string {
  const url = new URL('../ws', pageUrl);
  url.hash = '';
  url.search = '';
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.toString();
}

/** The fragment without its token: "#token=abc&site=2" → "#site=2", "#token=abc" → "" (the address bar keeps no secret). */
export function withoutToken(hash: string): string {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  params.delete('token');
  const rest = params.toString();
  return rest === '' ? '' : `#${rest}`;
}
