/**
 * How fast our service called D1: the most calls in any sliding window (not fixed seconds), what D1_MAX_TPS bounds
 * (DESIGN §9). Pure, so tests can also apply it to the records of `/_sim/requests`.
 */

/** The most of `timesMs` in any half-open window [t, t + windowMs); order does not matter. */
export function maxInAnyWindow(timesMs: readonly number[], windowMs = 1000): number {
  const sorted = [...timesMs].sort((a, b) => a - b);
  let max = 0;
  // The busiest window can always start at a call: slide its start over the calls, its end with a second pointer.
  for (let start = 0, end = 0; start < sorted.length; start++) {
    while (end < sorted.length && sorted[end]! < sorted[start]! + windowMs) end++;
    max = Math.max(max, end - start);
  }
  return max;
}
