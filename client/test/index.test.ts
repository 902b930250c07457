import { connectLive } from '@matomo-live/client';
import { waitFor } from '@matomo-live/test-support/wait-for';
import { frame, ScriptedServer } from './support/scripted-server';

describe('connectLive (Node entry point)', () => {
  it('connects with ws when the runtime has no WebSocket of its own', async () => {
    const server = await ScriptedServer.start((c) => c.socket.send(frame(9)));
    const client = connectLive({ url: server.url.replace('ws:', 'http:'), token: 'tok' });
    try {
      await waitFor(() => client.snapshot, 'a snapshot');
      expect(client.snapshot?.seq).toBe(9);
      expect(client.status.state).toBe('live');
      expect(server.connections[0]?.protocols).toEqual(['matomo-live.v1', 'token.tok']);
    } finally {
      client.close();
      await server.close();
    }
  });
});
