import type { ServerResponse } from 'node:http';
import type { MatomoSim } from './matomo-sim';

/**
 * The `/_sim/` HTTP control API, for tests that drive the simulator from
 * another process (docker, browser). JSON in, JSON out; 400 with
 * `{"error": "..."}` for a bad request.
 *
 * | route               | body                                              | answer |
 * |---------------------|---------------------------------------------------|--------|
 * | POST /_sim/visits   | partial visit (Matomo field names) + `siteId?`, or an array of them (a burst) | 201, the visit(s) as Live answers them |
 * | POST /_sim/visits/ID | `{actions?, lastActionTimestamp?}`: another hit on visit ID (`actions` default 1; 0 = a content impression) | 200, the visit as Live answers it |
 * | POST /_sim/summary  | `{siteId?, today?, yesterday?, day_before?, dates?}` | 200 `{"ok":true}` |
 * | POST /_sim/sites    | `{siteId, timezone?, name?}`                      | 200 `{"ok":true}` |
 * | POST /_sim/faults   | `{kind, count?, status?, method?, siteId?, message?, durationMs?}`; `{"kind":"none"}` clears | 200 `{"ok":true}` |
 * | DELETE /_sim/faults | —                                                 | 200 `{"ok":true}` |
 * | GET /_sim/stats     | —                                                 | 200, SimStats |
 * | POST /_sim/unblock  | —                                                 | 200 `{"ok":true}` (forgets token failures) |
 * | POST /_sim/reset    | —                                                 | 200 `{"ok":true}` |
 */
export function handleControl(sim: MatomoSim, method: string, path: string, body: string, res: ServerResponse): void {
  const reply = (status: number, value: unknown): void => {
    const text = JSON.stringify(value);
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) }).end(text);
  };
  const ok = { ok: true };
  try {
    const route = `${method} ${path.replace(/\/$/, '')}`;
    const update = /^POST \/_sim\/visits\/(\d+)$/.exec(route);
    if (update) return reply(200, sim.updateVisit(Number(update[1]), parseObject(body)));
    switch (route) {
      case 'POST /_sim/visits': {
        const input = parseJson(body);
        if (Array.isArray(input))
          return reply(
            201,
            input.map((visit, i) => sim.addVisit(asObject(visit, `visit ${i}`))),
          );
        return reply(201, sim.addVisit(asObject(input, 'the body')));
      }
      case 'POST /_sim/summary':
        sim.setSummary(parseObject(body));
        return reply(200, ok);
      case 'POST /_sim/sites':
        sim.setSite(parseObject(body) as unknown as Parameters<MatomoSim['setSite']>[0]);
        return reply(200, ok);
      case 'POST /_sim/faults': {
        const fault = parseObject(body);
        if (fault.kind === 'none') sim.clearFaults();
        else sim.injectFault(fault as unknown as Parameters<MatomoSim['injectFault']>[0]);
        return reply(200, ok);
      }
      case 'DELETE /_sim/faults':
        sim.clearFaults();
        return reply(200, ok);
      case 'GET /_sim/stats':
        return reply(200, sim.stats());
      case 'POST /_sim/unblock':
        sim.unblock();
        return reply(200, ok);
      case 'POST /_sim/reset':
        sim.reset();
        return reply(200, ok);
      default:
        return reply(404, { error: `no control route ${route}` });
    }
  } catch (error) {
    reply(400, { error: (error as Error).message });
  }
}

function parseJson(body: string): unknown {
  if (body.trim() === '') return {};
  try {
    return JSON.parse(body);
  } catch {
    throw new Error('the body must be JSON');
  }
}

function asObject(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`${what} must be a JSON object`);
  return value as Record<string, unknown>;
}

function parseObject(body: string): Record<string, unknown> {
  return asObject(parseJson(body), 'the body');
}
