/**
 * A storm load-generator child process: one StormFleet driven over IPC by
 * StormFleetPool. Requests: {id, op: 'start', options} | {id, op: 'report', since}
 * | {id, op: 'seq', seq, publishedAt, withinMs} | {id, op: 'live'} | {id, op: 'close'}.
 */
import { StormFleet, type FleetOptions } from './storm-fleet';
import { serveIpcRequests } from '../common/ipc-serve';

export type StormFleetRequest =
  | { id: number; op: 'start'; options: FleetOptions }
  | { id: number; op: 'report'; since: number }
  | { id: number; op: 'seq'; seq: number; publishedAt: number; withinMs: number }
  | { id: number; op: 'live' }
  | { id: number; op: 'close' };

let fleet: StormFleet | undefined;

async function handle(request: StormFleetRequest): Promise<unknown> {
  switch (request.op) {
    case 'start':
      fleet = new StormFleet(request.options);
      await fleet.start();
      return fleet.size;
    case 'report':
      return fleet?.report(request.since) ?? null;
    case 'seq':
      return fleet?.seqReport(request.seq, request.publishedAt, request.withinMs) ?? null;
    case 'live':
      return fleet?.liveCount() ?? 0;
    case 'close':
      fleet?.close();
      return null;
  }
}

serveIpcRequests<StormFleetRequest>('storm-fleet-main', handle);
