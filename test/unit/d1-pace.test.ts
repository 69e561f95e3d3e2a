import fc from 'fast-check';
import {
  afterThrottle,
  BACKOFF_HOLD_MS,
  bulkLimitOf,
  capacityAt,
  effectiveRate,
  firstSlotFrom,
  GUARD_MS,
  isThrottle,
  lastSlotBy,
  paceGrid,
  recoveryPerSecond,
  slotTime,
} from '../../lambdas/domain/d1-pace';
import { maxInAnyWindow } from '../../local/d1-simulator/pace';

/** DESIGN §9's pace as arithmetic: slots on a per-second grid with a guard, halving on 429/503, additive recovery. */

const S = 1_780_000_000; // an epoch second

describe('the slot grid', () => {
  it('D1_MAX_TPS 20: 19 usable positions 50 ms apart (one guard slot); 50: 48, 20 ms apart', () => {
    expect(paceGrid(20)).toEqual({ maxTps: 20, usable: 19, spacingMs: 50 });
    expect(paceGrid(50)).toEqual({ maxTps: 50, usable: 48, spacingMs: 20 });
    expect(paceGrid(1)).toEqual({ maxTps: 1, usable: 1, spacingMs: 1000 });
  });

  it('at full rate slot n is position n - 1; at a lower rate the slots spread over the second', () => {
    const grid = paceGrid(20);
    expect([1, 2, 19].map((n) => slotTime(grid, S, n, 19) - S * 1000)).toEqual([0, 50, 900]);
    expect([1, 2, 5].map((n) => slotTime(grid, S, n, 5) - S * 1000)).toEqual([0, 150, 750]);
  });

  it('capacity is the rate within the usable positions; the bulk lane leaves about 5 % (at least 1) to interactive calls', () => {
    const grid = paceGrid(20);
    expect([capacityAt(grid, 50), capacityAt(grid, 10), capacityAt(grid, 0)]).toEqual([19, 10, 1]);
    expect([bulkLimitOf(19), bulkLimitOf(48), bulkLimitOf(1), bulkLimitOf(200)]).toEqual([18, 46, 0, 190]);
  });

  it('finds the last slot by a time and the first slot from a time', () => {
    const grid = paceGrid(20);
    expect(lastSlotBy(grid, S, 19, S * 1000 + 120)).toBe(3); // 0, 50, 100
    expect(lastSlotBy(grid, S, 19, S * 1000 - 1)).toBe(0);
    expect(lastSlotBy(grid, S, 19, S * 1000 + 5000)).toBe(19);
    expect(firstSlotFrom(grid, S, 19, S * 1000 + 120)).toBe(4); // 150
    expect(firstSlotFrom(grid, S, 19, S * 1000 + 999)).toBe(20); // none left
  });

  it('property: whatever each second holds and however late (< GUARD_MS) each call starts, no sliding second exceeds D1_MAX_TPS', () => {
    const second = fc.record({
      rate: fc.integer({ min: 1, max: 400 }),
      taken: fc.array(fc.boolean(), { maxLength: 400 }), // which slots were taken (jumps skip some)
      lateness: fc.array(fc.double({ min: 0, max: GUARD_MS - 0.001, noNaN: true }), { maxLength: 400 }),
    });
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 300 }), fc.array(second, { minLength: 1, maxLength: 5 }), (maxTps, seconds) => {
        const grid = paceGrid(maxTps);
        const calls: number[] = [];
        seconds.forEach(({ rate, taken, lateness }, i) => {
          const capacity = capacityAt(grid, Math.min(rate, maxTps));
          for (let n = 1; n <= capacity; n++) {
            if (taken[n - 1] === false) continue;
            calls.push(slotTime(grid, S + i, n, capacity) + (lateness[n - 1] ?? 0));
          }
        });
        expect(maxInAnyWindow(calls)).toBeLessThanOrEqual(maxTps);
      }),
      { numRuns: 300 },
    );
  });
});

describe('back-off', () => {
  const T = S * 1000;

  it('full speed until a throttle; then half, regaining ceil(maxTps / 8) per second up to maxTps', () => {
    expect(effectiveRate(20, null, T)).toBe(20);
    const cut = afterThrottle(20, null, T)!;
    expect(cut).toEqual({ rate: 10, cutAtMs: T });
    expect(recoveryPerSecond(20)).toBe(3);
    expect([0, 999, 1000, 2000, 3000, 4000].map((ms) => effectiveRate(20, cut, T + ms))).toEqual([10, 10, 13, 16, 19, 20]);
  });

  it('cuts at most once per hold period, then halves what is in force (never below 1)', () => {
    const cut = afterThrottle(20, null, T)!;
    expect(afterThrottle(20, cut, T + BACKOFF_HOLD_MS - 1)).toBeNull();
    expect(afterThrottle(20, cut, T + BACKOFF_HOLD_MS)).toEqual({ rate: 6, cutAtMs: T + BACKOFF_HOLD_MS }); // (10 + 3) / 2
    expect(afterThrottle(1, { rate: 1, cutAtMs: T }, T + 5000)).toEqual({ rate: 1, cutAtMs: T + 5000 });
  });

  it('429 and 503 are throttles; other answers are not', () => {
    expect([429, 503, 500, 400, 200].map(isThrottle)).toEqual([true, true, false, false, false]);
  });
});

describe('maxInAnyWindow (the simulator measure)', () => {
  it('counts the busiest half-open window, wherever it starts', () => {
    expect(maxInAnyWindow([])).toBe(0);
    expect(maxInAnyWindow([0, 999, 1000])).toBe(2);
    expect(maxInAnyWindow([1500, 0, 600, 1200, 1300])).toBe(4); // 600..1500
    expect(maxInAnyWindow([0, 10, 20], 15)).toBe(2);
  });
});
