/**
 * The pace of updateCardState toward D1 (DESIGN §9): at most `maxTps` calls in any sliding second, across every
 * consumer, as slot arithmetic. No I/O; the DynamoDB adapter hands out the slots with atomic counters.
 *
 * The grid: second S has `maxTps` positions, S + k / maxTps (k = 0 … maxTps - 1). The last `guardSlots` of them are
 * never used, so a call may start up to GUARD_MS after its slot's time (timer lateness, the way to D1) without any
 * sliding second ever holding more than `maxTps` calls: any interval of 1 s + GUARD_MS covers at most one second's
 * usable positions plus `guardSlots` grid positions, which are all unused.
 *
 * Second S's counter hands out slot n = 1, 2, …; slot n sits on position floor((n - 1) × usable / capacity), so a
 * capacity below the usable positions (after a 429/503) spreads the calls over the second instead of bursting.
 * The capacity is fixed when the second's counter is created, so every claimer maps n to the same position: each
 * position is used at most once, whatever the rate did meanwhile.
 */

/** How late a call may reach D1 after its slot's time: STALE_MS of timer lateness plus the way to D1. */
export const GUARD_MS = 40;
/** A slot whose time passed by more than this when the consumer wakes is given up, not called late. */
export const STALE_MS = 10;
/** The longest a consumer waits in process for its slot; beyond it the attempt goes back to the queue. */
export const MAX_WAIT_MS = 1200;
/**
 * The bulk lane may take the interactive reserve of a second once the reserved slot is this close. Small enough that
 * an interactive call arriving just after a release still finds the next second's reserve within MAX_WAIT_MS (the
 * reserve sits about 0.9 s into its second: 1 s - 0.9 s + RELEASE_MS + 0.9 s < MAX_WAIT_MS).
 */
export const RELEASE_MS = 150;
/** A 429/503 halves the rate at most once per this long (the calls already in flight answer the same). */
export const BACKOFF_HOLD_MS = 1000;

export type PaceLane = 'interactive' | 'bulk';

export interface PaceGrid {
  maxTps: number;
  /** Grid positions per second that may be used: maxTps minus the guard, at least 1. */
  usable: number;
  /** Milliseconds between two grid positions. */
  spacingMs: number;
}

export function paceGrid(maxTps: number): PaceGrid {
  const guardSlots = Math.ceil((GUARD_MS * maxTps) / 1000);
  // At maxTps 1 the guard would leave nothing: one call a second, guarded only by STALE_MS (documented).
  return { maxTps, usable: Math.max(1, maxTps - guardSlots), spacingMs: 1000 / maxTps };
}

/** How many slots a second created at `rate` calls per second holds. */
export const capacityAt = (grid: PaceGrid, rate: number): number => Math.max(1, Math.min(grid.usable, Math.floor(rate)));

/** Slots of a second the bulk lane may take ahead of time: the last ones (about 5 %, at least 1) wait for interactive calls. */
export const bulkLimitOf = (capacity: number): number => Math.max(0, capacity - Math.max(1, Math.floor(capacity / 20)));

/** When slot `n` (1-based) of second `second` (epoch seconds) is called, in epoch ms. */
export function slotTime(grid: PaceGrid, second: number, n: number, capacity: number): number {
  const position = Math.floor(((n - 1) * grid.usable) / capacity);
  return second * 1000 + position * grid.spacingMs;
}

/** The last slot of the second whose time is at most `untilMs` (0 when none is). */
export function lastSlotBy(grid: PaceGrid, second: number, capacity: number, untilMs: number): number {
  let n = 0;
  while (n < capacity && slotTime(grid, second, n + 1, capacity) <= untilMs) n++;
  return n;
}

/** The first slot of the second whose time is not before `fromMs` (capacity + 1 when none is left). */
export function firstSlotFrom(grid: PaceGrid, second: number, capacity: number, fromMs: number): number {
  let n = 1;
  while (n <= capacity && slotTime(grid, second, n, capacity) < fromMs) n++;
  return n;
}

// ---------------------------------------------------------------------------------------------------------
// Back-off: multiplicative decrease on 429/503, additive increase back to maxTps.

/** The shared back-off state: the rate set at the last cut and when it was cut; none = full speed. */
export interface PaceBackoff {
  rate: number;
  cutAtMs: number;
}

/** Calls per second regained every second after a cut: from half to full speed in about 4 s. */
export const recoveryPerSecond = (maxTps: number): number => Math.max(1, Math.ceil(maxTps / 8));

/** The rate in force at `nowMs`: the cut rate plus what it regained since, never above maxTps. */
export function effectiveRate(maxTps: number, backoff: PaceBackoff | null, nowMs: number): number {
  if (!backoff) return maxTps;
  const regained = Math.floor(Math.max(0, nowMs - backoff.cutAtMs) / 1000) * recoveryPerSecond(maxTps);
  return Math.min(maxTps, backoff.rate + regained);
}

/** After D1 answered 429/503 at `nowMs`: half the rate in force (at least 1), or null while the last cut is recent. */
export function afterThrottle(maxTps: number, backoff: PaceBackoff | null, nowMs: number): PaceBackoff | null {
  if (backoff && nowMs - backoff.cutAtMs < BACKOFF_HOLD_MS) return null;
  return { rate: Math.max(1, Math.floor(effectiveRate(maxTps, backoff, nowMs) / 2)), cutAtMs: nowMs };
}

/** D1 answers that mean "slower": too many requests, or overloaded. */
export const isThrottle = (status: number): boolean => status === 429 || status === 503;
