import { cpus } from 'node:os';
import { REPO_ROOT } from '@matomo-live/test-support/processes';
import { describeMachine } from '../../src/common/machine';

describe('describeMachine', () => {
  it('describes this machine and the versions of what the bench compares', () => {
    const machine = describeMachine(REPO_ROOT);
    expect(machine.cores).toBe(cpus().length);
    expect(machine.node).toBe(process.version);
    expect(machine.loadAverageAtStart).toMatch(/^\d+\.\d\d \d+\.\d\d \d+\.\d\d$/);
    expect(machine.fdLimit).toMatch(/^(\d+|unlimited)$/);
    // Installed in the workspace: their versions come from node_modules, not "?".
    expect(machine.versions['ws (peers, load generators)']).toMatch(/^\d+\.\d+\.\d+$/);
    expect(machine.versions['socket.io']).toMatch(/^\d+\.\d+\.\d+$/);
    expect(machine.versions['redis-server']).toMatch(/^Redis server v=/);
  });

  it('answers "?" for a package that is not installed', () => {
    expect(describeMachine('/nonexistent').versions['ioredis']).toBe('?');
  });
});
