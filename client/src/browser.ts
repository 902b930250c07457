import { LiveClient, type LiveClientOptions } from './live-client';

export { backoffDelay } from '@matomo-live/protocol';
export { ClientCloseCode, CLOSE_CODE_RULES, CloseCode, closeRule, isAuthFailure } from './close-codes';
export { LiveClient } from './live-client';
export { tokenExpiry, type TokenSource } from './token-keeper';
export type {
  ClientEvents,
  ConnectionState,
  EventsResetMessage,
  EventVisit,
  LiveClientOptions,
  Snapshot,
  StaleReason,
  StatusEvent,
  StatusMessage,
  VisitEventMessage,
} from './live-client';

/** Browser entry point (global `MatomoLive` in the IIFE build): the native WebSocket, nothing else. */
export function connectLive(options: LiveClientOptions): LiveClient {
  return new LiveClient(options).start();
}
