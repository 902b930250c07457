import type { IncomingHttpHeaders } from 'node:http';
import { lookup as dnsLookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import {
  parseEventsRequest,
  PROTOCOL_NAME,
  SELECTABLE_FIELDS,
  STATUS_PARAM,
  TOKEN_PROTOCOL_PREFIX,
  type EventsRequest,
  type SelectableField,
} from '@matomo-live/protocol';

/** Paths that accept WebSocket upgrades (the forms in use). */
const WS_PATHS = new Set(['/', '/ws', '/ws/']);

/** What a WebSocket upgrade asks for, read from its URL and headers only. */
export interface ConnectRequest {
  /** Token from Authorization: Bearer, else subprotocol token.T, else ?token=. */
  token: string | undefined;
  /** Requested site, or undefined for the default. NaN when not a site id. */
  siteId: number | undefined;
  /** Requested fields (sorted, unique), or undefined for the whole snapshot. */
  fields: SelectableField[] | undefined;
  /** Error text when `fields=` names an unknown field. */
  fieldsError: string | undefined;
  /** Visit events asked for with `events=` (`since=`, `rewind=`); undefined: none. */
  events: EventsRequest | undefined;
  /** Error text when `events=`, `since=` or `rewind=` is malformed. */
  eventsError: string | undefined;
  /** Status messages asked for (`status=1` or `true`); false without `status=`, or with `0` / `false`. */
  status: boolean;
  /** Error text when `status=` is anything else. */
  statusError: string | undefined;
}

/** A request URL's path: everything before the query. */
export function pathOf(url: string | undefined): string {
  return (url ?? '/').split('?', 1)[0] ?? '/';
}

/** True when the path (without query) takes upgrades. */
export function isWebSocketPath(url: string | undefined): boolean {
  return WS_PATHS.has(pathOf(url));
}

export function parseConnectRequest(url: string | undefined, headers: IncomingHttpHeaders): ConnectRequest {
  const query = new URL(url ?? '/', 'http://gateway.invalid').searchParams;
  const token = bearerToken(headers.authorization) ?? protocolToken(headers['sec-websocket-protocol']) ?? query.get('token') ?? undefined;
  const siteText = query.get('site');
  const siteId = siteText === null || siteText === '' ? undefined : /^\d+$/.test(siteText) ? Number(siteText) : Number.NaN;
  const { fields, error } = parseFields(query.get('fields'));
  const events = parseEventsRequest(query.get('events'), query.get('since'), query.get('rewind'));
  const status = parseStatus(query.get(STATUS_PARAM));
  return {
    token,
    siteId,
    fields,
    fieldsError: error,
    events: events.request,
    eventsError: events.error,
    status: status.wanted,
    statusError: status.error,
  };
}

/** `status=1` / `true` asks for status messages, `0` / `false` (or no `status=`) does not; anything else is an error. */
function parseStatus(text: string | null): { wanted: boolean; error: string | undefined } {
  if (text === null || text === '0' || text === 'false') return { wanted: false, error: undefined };
  if (text === '1' || text === 'true') return { wanted: true, error: undefined };
  return { wanted: false, error: `unknown status "${text.slice(0, 32)}"` };
}

export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1];
}

function protocolToken(header: string | undefined): string | undefined {
  for (const part of (header ?? '').split(',')) {
    const name = part.trim();
    if (name.startsWith(TOKEN_PROTOCOL_PREFIX) && name.length > TOKEN_PROTOCOL_PREFIX.length)
      return name.slice(TOKEN_PROTOCOL_PREFIX.length);
  }
  return undefined;
}

/** ws's handleProtocols: select matomo-live.v1, never echo the token protocol back. */
export function selectProtocol(offered: Set<string>): string | false {
  return offered.has(PROTOCOL_NAME) ? PROTOCOL_NAME : false;
}

function parseFields(text: string | null): { fields: SelectableField[] | undefined; error: string | undefined } {
  if (text === null || text.trim() === '') return { fields: undefined, error: undefined };
  const wanted = new Set<SelectableField>();
  for (const name of text
    .split(',')
    .map((f) => f.trim())
    .filter((f) => f !== '')) {
    // site, seq and updated_at are always included; naming them is harmless.
    if (name === 'site' || name === 'seq' || name === 'updated_at') continue;
    if (!(SELECTABLE_FIELDS as readonly string[]).includes(name)) return { fields: undefined, error: `unknown field "${name}"` };
    wanted.add(name as SelectableField);
  }
  const fields = SELECTABLE_FIELDS.filter((f) => wanted.has(f));
  // Asking for every field is the whole snapshot: share its frames.
  return { fields: fields.length === SELECTABLE_FIELDS.length ? undefined : fields, error: undefined };
}

/**
 * The client's address: the socket's, or — only when the socket's peer is a
 * trusted proxy — the right-most X-Forwarded-For entry not itself trusted.
 */
export interface ClientAddressResolverOptions {
  /** Host name → its addresses. Default: dns.lookup with all: true. */
  lookup?: (host: string) => Promise<string[]>;
  /** Called when a host name does not resolve; its last good addresses stay trusted. Default: nothing. */
  onLookupError?: (host: string, error: unknown) => void;
  /**
   * Called the first time a peer that is not a trusted proxy sends
   * X-Forwarded-For (for a few peers per process): most likely a proxy missing
   * from TRUST_PROXY, behind which every client shares one address for the
   * per-address limits. Default: nothing.
   */
  onIgnoredForwardedFor?: (peer: string) => void;
}

/** Peers reported by onIgnoredForwardedFor, at most: a direct client sending the header must not grow a list or flood the log. */
const IGNORED_PEERS_REPORTED = 16;

export class ClientAddressResolver {
  private trusted = new BlockList();
  private readonly any: boolean;
  private readonly ranges: string[];
  private readonly hosts: string[];
  /** Last good addresses of each host name in TRUST_PROXY. */
  private readonly hostAddresses = new Map<string, string[]>();
  private readonly lookup: (host: string) => Promise<string[]>;
  private readonly onLookupError: (host: string, error: unknown) => void;
  private readonly onIgnoredForwardedFor: ((peer: string) => void) | undefined;
  /** Peers seen sending X-Forwarded-For untrusted → the host-name refresh round of the first sighting; -1 once reported. */
  private readonly ignoredPeers = new Map<string, number>();
  /** Completed refreshHosts rounds. */
  private refreshes = 0;

  /** @param trustedProxies CIDR ranges ("10.0.0.5/32") and host names ("nginx"), as the config validator gives them. */
  constructor(
    trustedProxies: readonly string[],
    { lookup = lookupAll, onLookupError = () => {}, onIgnoredForwardedFor }: ClientAddressResolverOptions = {},
  ) {
    this.any = trustedProxies.length > 0;
    this.ranges = trustedProxies.filter((entry) => entry.includes('/'));
    this.hosts = trustedProxies.filter((entry) => !entry.includes('/'));
    this.lookup = lookup;
    this.onLookupError = onLookupError;
    this.onIgnoredForwardedFor = onIgnoredForwardedFor;
    this.rebuild();
  }

  /** Host names of TRUST_PROXY, resolved now (at start and on a timer); a failed lookup keeps the last good addresses. */
  async refreshHosts(): Promise<void> {
    await Promise.all(
      this.hosts.map(async (host) => {
        try {
          const addresses = (await this.lookup(host)).map(normalize).filter((a) => isIP(a) !== 0);
          if (addresses.length > 0) this.hostAddresses.set(host, addresses);
        } catch (error) {
          this.onLookupError(host, error);
        }
      }),
    );
    this.refreshes += 1;
    this.rebuild();
  }

  /** Whether TRUST_PROXY names hosts (that need refreshHosts). */
  get hasHostNames(): boolean {
    return this.hosts.length > 0;
  }

  resolve(socketAddress: string | undefined, forwardedFor: string | string[] | undefined): string {
    let address = normalize(socketAddress ?? '');
    if (forwardedFor === undefined) return address;
    if (!this.any || !this.isTrusted(address)) {
      this.reportIgnored(address);
      return address;
    }
    // From the right: each hop was appended by the proxy before it, so the
    // first address that is not one of our proxies is the client; anything
    // to its left was written by the client and proves nothing.
    const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor).split(',').map((h) => normalize(h.trim()));
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = hops[i] ?? '';
      if (isIP(hop) === 0) break;
      address = hop;
      if (!this.isTrusted(hop)) break;
    }
    return address;
  }

  /**
   * With host names in TRUST_PROXY, a peer is reported only if it is still
   * untrusted after a refresh that came after its first request: the proxy
   * may have started after this process (compose starts nginx once the
   * gateways are healthy) and not be resolved yet.
   */
  private reportIgnored(peer: string): void {
    if (this.onIgnoredForwardedFor === undefined) return;
    const seenAt = this.ignoredPeers.get(peer);
    if (seenAt === undefined) {
      if (this.ignoredPeers.size >= IGNORED_PEERS_REPORTED) return;
      this.ignoredPeers.set(peer, this.refreshes);
    } else if (seenAt < 0 || seenAt === this.refreshes) return;
    if (this.hosts.length > 0 && seenAt === undefined) return;
    this.ignoredPeers.set(peer, -1);
    this.onIgnoredForwardedFor(peer);
  }

  private rebuild(): void {
    const list = new BlockList();
    for (const range of this.ranges) {
      const [address = '', bits = ''] = range.split('/');
      list.addSubnet(address, Number(bits), isIP(address) === 6 ? 'ipv6' : 'ipv4');
    }
    for (const addresses of this.hostAddresses.values()) {
      for (const address of addresses) list.addAddress(address, isIP(address) === 6 ? 'ipv6' : 'ipv4');
    }
    this.trusted = list;
  }

  private isTrusted(address: string): boolean {
    const family = isIP(address);
    return family !== 0 && this.trusted.check(address, family === 6 ? 'ipv6' : 'ipv4');
  }
}

async function lookupAll(host: string): Promise<string[]> {
  return (await dnsLookup(host, { all: true })).map((entry) => entry.address);
}

/** "::ffff:10.0.0.1" → "10.0.0.1", so IPv4 ranges match dual-stack sockets. */
function normalize(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

/** Is this Origin allowed? No Origin (non-browser clients) is always allowed. */
export function originAllowed(origin: string | undefined, allowed: readonly string[] | undefined): boolean {
  if (allowed === undefined || origin === undefined) return true;
  return allowed.includes(origin);
}
