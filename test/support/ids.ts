import { randomUUID } from 'node:crypto';

/** A short random suffix, so no two tests (nor two runs on the same engines) share an id. */
export const uid = (): string => randomUUID().slice(0, 8);

/** Fresh ids for one test, named after it for the logs: a card, one of its tokens, an idempotency key. */
export function ids(label: string): { card: string; vc: string; key: string } {
  const suffix = uid();
  return { card: `card-${label}-${suffix}`, vc: `vc-${label}-${suffix}`, key: `idem-${label}-${randomUUID()}` };
}
