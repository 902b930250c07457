/**
 * The harness of tests and benchmarks (built, so the benchmark can run it):
 * the one redis-server launcher and the Sentinel and Cluster topologies built
 * on it, the free-port helper, the process starter, the wait loop and the
 * real-Matomo helper. Never a fake.
 */
export * from './availability';
export * from './cluster';
export * from './free-port';
export * from './probe';
export * from './process';
export * from './redis-server';
export * from './sentinel';
export * from './wait-for';
export * from './real-matomo';
