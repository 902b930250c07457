import { PROTOCOL_NAME, STATUS_PARAM, TOKEN_PROTOCOL_PREFIX, type EventStream, type SelectableField } from '@matomo-live/protocol';

/** Top-level snapshot keys a connection can ask for (`site`, `seq`, `updated_at` always come). */
export type SnapshotField = SelectableField;

export interface ConnectTarget {
  /** Gateway URL: ws://, wss://, or http(s):// (mapped to ws(s)://). */
  url: string;
  token?: string;
  /** 'subprotocol' keeps the token out of URLs and access logs; 'query' is the reference's `?token=`. */
  tokenTransport: 'subprotocol' | 'query';
  site?: number;
  fields?: readonly SnapshotField[];
  /** Ask for visit events (`events=visits`). */
  events?: EventStream;
  /** With `events`: resume after this stream id. */
  since?: string;
  /** With `events` and no `since`: replay up to this many of the latest retained events first. */
  rewind?: number;
  /** Ask for the site's status messages (`status=1`): whether its data is current. */
  status?: boolean;
}

/**
 * The URL and subprotocols of one connection attempt. Subprotocol values may
 * only hold RFC 7230 token characters, so a token outside that alphabet is
 * refused here instead of failing obscurely inside the WebSocket constructor.
 */
export function connectRequest(target: ConnectTarget): { url: string; protocols: string[] } {
  const url = new URL(target.url);
  if (url.protocol === 'http:') url.protocol = 'ws:';
  else if (url.protocol === 'https:') url.protocol = 'wss:';
  else if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
    throw new TypeError(`matomo-live: unsupported URL scheme ${url.protocol} (use ws:, wss:, http: or https:)`);
  }
  if (target.site !== undefined) url.searchParams.set('site', String(target.site));
  if (target.fields && target.fields.length > 0) url.searchParams.set('fields', target.fields.join(','));
  if (target.events !== undefined) {
    url.searchParams.set('events', target.events);
    if (target.since !== undefined) url.searchParams.set('since', target.since);
    else if (target.rewind !== undefined) url.searchParams.set('rewind', String(target.rewind));
  }
  if (target.status) url.searchParams.set(STATUS_PARAM, '1');
  const protocols = [PROTOCOL_NAME];
  if (target.token !== undefined && target.token !== '') {
    if (target.tokenTransport === 'query') {
      url.searchParams.set('token', target.token);
    } else {
      if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(target.token)) {
        throw new TypeError('matomo-live: this token has characters a subprotocol cannot carry; use tokenTransport "query"');
      }
      protocols.push(`${TOKEN_PROTOCOL_PREFIX}${target.token}`);
    }
  }
  return { url: url.toString(), protocols };
}
