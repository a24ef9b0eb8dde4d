import { describe, expect, it } from '@jest/globals';
import { Gate } from '../src/internal/gate.js';

const busy = (reason: string) => new Error(reason);

/** Enters `gate` for each affinity in order (all waiting); returns the order they were let in. */
function queue(gate: Gate, affinities: Array<number | undefined>): { order: number[]; entered: Promise<void>[] } {
  const order: number[] = [];
  const entered = affinities.map((affinity, i) => gate.enter(10_000, busy, affinity).then(() => void order.push(i)));
  return { order, entered };
}

describe('data-router - Gate (the slots of a shared pool)', () => {
  it('a place given back goes to the oldest waiter without affinity, in FIFO order', async () => {
    const gate = new Gate(1, 100);
    await gate.enter(0, busy);
    const { order, entered } = queue(gate, [undefined, undefined, undefined]);
    for (let i = 0; i < 3; i++) gate.leave();
    await Promise.all(entered);
    expect(order).toEqual([0, 1, 2]);
  });

  it('a place given back for a lane goes to the oldest waiter of that lane first', async () => {
    const gate = new Gate(1, 100);
    await gate.enter(0, busy);
    const { order, entered } = queue(gate, [0, 1, 1, 0]);
    gate.leave(1); // waiter 1, the oldest of lane 1, passes waiter 0
    gate.leave(0); // waiter 0
    gate.leave(0); // waiter 3 (lane 0) passes waiter 2
    gate.leave(1); // waiter 2
    await Promise.all(entered);
    expect(order).toEqual([1, 0, 3, 2]);
  });

  it("the oldest waiter, passed over 8 times for others of the place's lane, goes first: no waiter waits for ever", async () => {
    const gate = new Gate(1, 100);
    await gate.enter(0, busy);
    const { order, entered } = queue(gate, [7, ...Array.from({ length: 20 }, () => 1)]);
    for (let i = 0; i < 21; i++) gate.leave(1);
    await Promise.all(entered);
    expect(order.indexOf(0)).toBe(8);
  });

  it('with no waiter the place goes back to the gate', async () => {
    const gate = new Gate(2, 100);
    await gate.enter(0, busy, 1);
    await gate.enter(0, busy, 0);
    gate.leave(1);
    expect(gate.holders).toBe(1);
    await expect(gate.enter(0, busy, 3)).resolves.toBeUndefined();
    await expect(gate.enter(0, busy)).rejects.toThrow('wait timed out');
  });
});
