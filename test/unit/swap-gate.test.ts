import { describe, expect, it } from 'vitest';
import { gatedReads, SwapGate } from '../../core/swap-gate.js';

const tick = () => new Promise((resolve) => setTimeout(resolve, 1));

describe('SwapGate', () => {
  it('a swap waits for the reads in flight and holds new ones until it is done', async () => {
    const gate = new SwapGate();
    const events: string[] = [];
    let release!: () => void;
    const first = gate.read(async () => {
      events.push('read 1 start');
      await new Promise<void>((resolve) => (release = resolve));
      events.push('read 1 end');
    });
    await tick();
    const swap = gate.exclusive(async () => {
      events.push('swap start');
      await tick();
      events.push('swap end');
    });
    await tick();
    const second = gate.read(async () => void events.push('read 2'));
    await tick();
    expect(events).toEqual(['read 1 start']);
    release();
    await Promise.all([first, swap, second]);
    expect(events).toEqual(['read 1 start', 'read 1 end', 'swap start', 'swap end', 'read 2']);
  });

  it('reads run side by side; a failing operation releases the gate', async () => {
    const gate = new SwapGate();
    let running = 0;
    let most = 0;
    await Promise.all(
      [1, 2, 3].map(() =>
        gate.read(async () => {
          most = Math.max(most, ++running);
          await tick();
          running--;
        }),
      ),
    );
    expect(most).toBe(3);
    await expect(gate.exclusive(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(gate.read(async () => 'ok')).resolves.toBe('ok');
  });

  it('gatedReads runs every method of a port inside the gate', async () => {
    const gate = new SwapGate();
    const port = { value: 2, async twice(n: number) { return n * this.value; } };
    const gated = gatedReads(port, gate);
    let done = false;
    const swap = gate.exclusive(async () => {
      await tick();
      done = true;
    });
    expect(await gated.twice(21)).toBe(42);
    expect(done).toBe(true);
    await swap;
  });
});
