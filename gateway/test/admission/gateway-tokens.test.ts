import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloseCode, systemClock } from '@matomo-live/protocol';
import { gatewayConfigFrom } from '@matomo-live/test-support/gateway';
import { silentLogger } from '@matomo-live/test-support/logger';
import { waitFor } from '@matomo-live/test-support/wait-for';
import { GatewayTokens } from '../../src/admission/gateway-tokens';
import { GatewayMetrics } from '../../src/metrics/gateway-metrics';
import type { ClientSession } from '../../src/sessions/client-session';

const OLD = 'old-token-0123456789abcdef';
const NEW = 'new-token-0123456789abcdef';

describe('GatewayTokens', () => {
  let dir: string;
  let file: string;
  let tokens: GatewayTokens;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gateway-tokens-'));
    file = join(dir, 'tokens');
    writeFileSync(file, `${OLD},${NEW}`);
    const config = gatewayConfigFrom({ VALID_TOKENS_FILE: file, DASHBOARD_DIR: 'off' });
    tokens = new GatewayTokens({ config, logger: silentLogger, clock: systemClock, metrics: new GatewayMetrics() });
    await tokens.sources.start();
  });
  afterEach(() => {
    tokens.sources.stop();
    tokens.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  /** An open connection admitted with `token`: what the gateway tracks of it. */
  async function open(token: string): Promise<{ session: ClientSession; closes: CloseCode[] }> {
    const result = await tokens.sources.verify(token);
    if (!result.ok) throw new Error(`not admitted: ${result.reason}`);
    const closes: CloseCode[] = [];
    const session = {
      info: { ip: '127.0.0.1', siteId: 1, tokenKey: result.grant.tokenKey, tokenId: 'id' },
      close: (code: CloseCode) => closes.push(code),
    } as unknown as ClientSession;
    tokens.track(session, token, result.grant);
    return { session, closes };
  }

  it('judges a session by the token it refreshed to, not the one it opened with, when the set rotates', async () => {
    const refreshed = await open(OLD);
    await tokens.refresh(refreshed.session, NEW);
    const kept = await open(OLD);
    // A second session on the old token: the rotation that removes it closes that one only.
    writeFileSync(file, NEW);
    await tokens.sources.reload('signal');
    await waitFor(() => kept.closes.length > 0, 'the old token session to be closed');
    expect(kept.closes).toEqual([CloseCode.InvalidToken]);
    expect(refreshed.closes).toEqual([]);
  });

  it('forgets a closed session: a later rotation does not close it again', async () => {
    const gone = await open(OLD);
    const witness = await open(OLD);
    tokens.forget(gone.session);
    writeFileSync(file, NEW);
    await tokens.sources.reload('signal');
    await waitFor(() => witness.closes.length > 0, 'the open session on the removed token to be closed');
    expect(gone.closes).toEqual([]);
  });
});
