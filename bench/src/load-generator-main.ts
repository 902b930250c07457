/**
 * A load-generator child process: one ClientSwarm driven over IPC by
 * LoadGeneratorPool. Requests: {id, op: 'connect', options} | {id, op: 'measure', fromSeq}
 * | {id, op: 'report'} | {id, op: 'close'}; every answer is {id, result} or {id, error}.
 */
import { ClientSwarm, type SwarmOptions } from './load-generator';

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

if (!process.send) {
  console.error('load-generator-main is started by the benchmark (it needs an IPC channel)');
  process.exit(64);
}
process.on('message', (request: LoadGeneratorRequest) => {
  handle(request).then(
    (result) => process.send?.({ id: request.id, result }),
    (error: Error) => process.send?.({ id: request.id, error: error.message }),
  );
});
// The parent going away (even killed) closes the IPC channel: leave with it.
process.on('disconnect', () => process.exit(0));
