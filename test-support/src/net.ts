/** The harness's free-port helper (@matomo-live/redis-ha), under the name tests import. */
export { freePort, freePorts } from '@matomo-live/redis-ha';
