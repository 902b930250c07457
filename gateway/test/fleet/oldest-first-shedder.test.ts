import WebSocket from 'ws';
import type { ClientSession } from '../../src/sessions/client-session';
import { OldestFirstShedder } from '../../src/fleet/oldest-first-shedder';

const session = (name: string, readyState: number = WebSocket.OPEN) => ({ name, ws: { readyState } }) as unknown as ClientSession;

describe('OldestFirstShedder', () => {
  it('closes the oldest open sessions first, never one twice, and counts them pending until closed', () => {
    const sessions = new Set([session('a'), session('b', WebSocket.CLOSING), session('c'), session('d'), session('e')]);
    const closed: string[] = [];
    const shedder = new OldestFirstShedder(sessions, (s) => closed.push((s as unknown as { name: string }).name));
    expect(shedder.shed(2)).toBe(2);
    expect(closed).toEqual(['a', 'c']);
    expect(shedder.pending).toBe(2);
    expect(shedder.shed(2)).toBe(2);
    expect(closed).toEqual(['a', 'c', 'd', 'e']);
    expect(shedder.shed(5)).toBe(0);
    const [a] = sessions;
    shedder.closed(a!);
    shedder.closed(a!);
    shedder.closed(session('stranger'));
    expect(shedder.pending).toBe(3);
  });
});
