import { TypedEmitter } from '../src/typed-emitter';

class Ticker extends TypedEmitter<{ tick: number; done: string }> {
  fire(n: number): void {
    this.emit('tick', n);
  }
}

describe('TypedEmitter', () => {
  it('calls listeners in order and stops calling a removed one', () => {
    const ticker = new Ticker();
    const seen: string[] = [];
    const offA = ticker.on('tick', (n) => seen.push(`a${n}`));
    ticker.on('tick', (n) => seen.push(`b${n}`));
    ticker.fire(1);
    offA();
    ticker.fire(2);
    expect(seen).toEqual(['a1', 'b1', 'b2']);
  });

  it('lets a listener remove itself while the event is being delivered', () => {
    const ticker = new Ticker();
    const seen: number[] = [];
    const off = ticker.on('tick', (n) => {
      seen.push(n);
      off();
    });
    ticker.on('tick', (n) => seen.push(n * 10));
    ticker.fire(1);
    ticker.fire(2);
    expect(seen).toEqual([1, 10, 20]);
  });
});
