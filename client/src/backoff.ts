/** The full-jitter backoff of reconnects: one definition, shared with the poller. */
export { backoffDelay, type BackoffOptions } from '@matomo-live/shared/dist/backoff';
