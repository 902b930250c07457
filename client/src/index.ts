import WebSocket from 'ws';
import { LiveClient, type LiveClientOptions, type WebSocketConstructor } from './live-client';

export {
  backoffDelay,
  PROTOCOL_NAME,
  STALE_REASON_TEXT,
  STALE_REASONS,
  systemClock,
  type BackoffOptions,
  type Clock,
} from '@matomo-live/protocol';
export * from './close-codes';
export * from './connect-url';
export * from './event-tracker';
export * from './live-client';
export * from './seq-filter';
export * from './site-status';
export * from './token-keeper';

/**
 * Node entry point: like `new LiveClient(options).start()`, with `ws` as the
 * WebSocket unless the runtime has one or another is passed.
 */
export function connectLive(options: LiveClientOptions): LiveClient {
  const fallback = (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket ?? WebSocket;
  return new LiveClient({ ...options, WebSocket: options.WebSocket ?? fallback }).start();
}
