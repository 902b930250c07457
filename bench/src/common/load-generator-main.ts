/**
 * A load-generator child process: one ClientSwarm driven over IPC by
 * LoadGeneratorPool. Requests: {id, op: 'connect', options} | {id, op: 'measure', fromSeq}
 * | {id, op: 'report'} | {id, op: 'close'}; every answer is {id, result} or {id, error}.
 */
import { ClientSwarm, type SwarmOptions } from './load-generator';
import { serveIpcRequests } from './ipc-serve';

export type LoadGeneratorRequest =
  | { id: number; op: 'connect'; options: SwarmOptions }
  | { id: number; op: 'measure'; fromSeq: number }
  | { id: number; op: 'report' }
  | { id: number; op: 'close' };

let swarm: ClientSwarm | undefined;

async function handle(request: LoadGeneratorRequest): Promise<unknown> {
  switch (request.op) {
    case 'connect':
      swarm = new ClientSwarm(request.options);
      return swarm.connect();
    case 'measure':
      swarm?.startMeasuring(request.fromSeq);
      return null;
    case 'report':
      return swarm?.report() ?? null;
    case 'close':
      await swarm?.close();
      return null;
  }
}

serveIpcRequests<LoadGeneratorRequest>('load-generator-main', handle);
