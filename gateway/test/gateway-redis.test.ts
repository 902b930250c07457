import { redisScope, type RedisScope } from '@matomo-live/test-support/redis';
import { singleNode } from '@matomo-live/test-support/redis-ha';
import { silentLogger } from '@matomo-live/test-support/logger';
import { waitFor } from '@matomo-live/test-support/wait-for';
import { createRedisClients } from '../src/gateway-redis';

describe('createRedisClients (the gateway’s two Redis connections)', () => {
  let scope: RedisScope;

  beforeEach(async () => {
    scope = await redisScope('gateway-redis');
  });

  afterEach(async () => {
    await scope.close();
  });

  it('names both connections, delivers pub/sub on one and runs commands on the other', async () => {
    const name = `gw-${scope.prefix.slice(2, -1)}`;
    const clients = createRedisClients(singleNode(scope.url), { logger: silentLogger, connectionName: name });
    try {
      const channel = `${scope.prefix}channel`;
      const received: string[] = [];
      clients.subscriber.onMessage((ch, message) => {
        if (ch === channel) received.push(message.toString());
      });
      await clients.subscriber.subscribe(channel);
      await clients.command.set(`${scope.prefix}key`, 'value');
      expect(await scope.command.get(`${scope.prefix}key`)).toBe('value');
      await scope.command.publish(channel, 'hello');
      await waitFor(() => received.includes('hello'), 'the published message on the subscriber connection');
      const list = (await scope.command.client('LIST')) as string;
      expect(list).toContain(`name=${name} `);
      expect(list).toContain(`name=${name}-sub `);
    } finally {
      await clients.close();
    }
  });

  it('closes both connections', async () => {
    const name = `gw-close-${scope.prefix.slice(2, -1)}`;
    const clients = createRedisClients(singleNode(scope.url), { logger: silentLogger, connectionName: name });
    await clients.subscriber.subscribe(`${scope.prefix}c`);
    await clients.command.ping();
    await clients.close();
    await waitFor(
      async () => !((await scope.command.client('LIST')) as string).includes(`name=${name}`),
      'both connections gone from CLIENT LIST',
    );
  });
});
