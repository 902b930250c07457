/** The harness's wait loop (@matomo-live/redis-ha), under the name tests import. */
export { waitFor, type WaitForOptions } from '@matomo-live/redis-ha';
