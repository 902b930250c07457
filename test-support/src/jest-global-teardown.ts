/** jest's globalTeardown (jest.config.js): stops the Redis the global setup started, if it started one. */
export default async function globalTeardown(): Promise<void> {
  const redis = globalThis.matomoLiveRunRedis;
  globalThis.matomoLiveRunRedis = undefined;
  await redis?.stop();
}
