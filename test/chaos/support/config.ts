/**
 * Chaos-suite knobs. `CHAOS_FULL=1` (npm run test:chaos) runs the full counts; otherwise the bounded counts that
 * `npm test` can afford. `CHAOS_SEED` replays a run: every file prints the seed it used (and fast-check prints the
 * seed and path of a failing run).
 */
export const FULL = process.env.CHAOS_FULL === '1' || process.env.CHAOS_FULL === 'true';

export function chaosSeed(): number {
  const raw = process.env.CHAOS_SEED;
  if (raw === undefined || raw === '') return Date.now() % 2 ** 31;
  const seed = Number(raw);
  if (!Number.isInteger(seed)) throw new Error(`CHAOS_SEED must be an integer, got ${raw}`);
  return seed;
}

/** Count from env (e.g. CHAOS_DOMAIN_RUNS) or the full/bounded default. */
export function runs(envName: string, full: number, bounded: number): number {
  const raw = process.env[envName];
  if (raw !== undefined && raw !== '') return Math.max(1, Number(raw));
  return FULL ? full : bounded;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** One summary line per file, printed at the end (console.log so it shows in Jest's output). */
export function report(file: string, lines: Record<string, unknown>): void {
  const body = Object.entries(lines)
    .map(([k, v]) => `  ${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join('\n');
  console.log(`[chaos] ${file} (${FULL ? 'FULL' : 'bounded'})\n${body}`);
}
