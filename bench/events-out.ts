/**
 * Events out (DESIGN §8) as the bench sees it: how long after a callback was accepted its events reach a
 * subscriber, beside how long the callback itself took to be applied, measured on the same callbacks of the same run.
 *
 * Every token event names its token and `sequence` (the token version its write produced); the history item of
 * that version names the callback (bench/verify.ts callbacksByVersion). So each received event is matched to
 * exactly one callback, and both lags start at the same instant: the first 2xx answer of that callback's webhook
 * at the load generator. "Applied" is when the apply consumer finished the batch holding the callback (its
 * transaction committed a little before); "received" is when the request reached the bench's receiver.
 */
import type { PipelineRun } from './phases';
import type { ReceivedEvent } from './receiver';
import { percentile } from './stats';

export interface EventLag {
  /** Events the receiver got for the run's tokens, and how many were matched to a callback of the run. */
  received: number;
  matched: number;
  /** Events the publisher logged during the run (conditional PutItems that succeeded). */
  logged: number;
  /** Distinct callbacks whose change published at least one event. */
  callbacks: number;
  /** accepted → received per event, ms. */
  eventP50Ms: number;
  eventP99Ms: number;
  /** accepted → applied per callback of those events, ms: the baseline. */
  pipelineP50Ms: number;
  pipelineP99Ms: number;
  /** applied → received per event, ms: what events out adds behind the pipeline. */
  addedP50Ms: number;
  addedP99Ms: number;
  unmatched: string[];
}

export function eventLag(
  run: PipelineRun,
  received: Iterable<ReceivedEvent>,
  tokens: ReadonlySet<string>,
  callbacksByVersion: ReadonlyMap<string, string>,
  logged: number,
): EventLag {
  const eventLags: number[] = [];
  const added: number[] = [];
  const callbacks = new Set<string>();
  const unmatched: string[] = [];
  let count = 0;
  for (const event of received) {
    const virtualCardId = event.data.virtualCardId;
    if (!event.type.startsWith('token.') || typeof virtualCardId !== 'string' || !tokens.has(virtualCardId)) continue;
    count++;
    const key = callbacksByVersion.get(`${virtualCardId}#${String(event.data.sequence)}`);
    const acceptedAt = key === undefined ? undefined : run.accepted[key];
    const appliedAt = key === undefined ? undefined : run.applied[key];
    if (key === undefined || acceptedAt === undefined || appliedAt === undefined) {
      unmatched.push(`${event.id} (${event.type} ${virtualCardId} v${String(event.data.sequence)}): no callback of the run`);
      continue;
    }
    eventLags.push(event.receivedAt - acceptedAt);
    added.push(event.receivedAt - appliedAt);
    callbacks.add(key);
  }
  const pipeline = [...callbacks].map((key) => run.applied[key]! - run.accepted[key]!);
  return {
    received: count,
    matched: eventLags.length,
    logged,
    callbacks: callbacks.size,
    eventP50Ms: percentile(eventLags, 50),
    eventP99Ms: percentile(eventLags, 99),
    pipelineP50Ms: percentile(pipeline, 50),
    pipelineP99Ms: percentile(pipeline, 99),
    addedP50Ms: percentile(added, 50),
    addedP99Ms: percentile(added, 99),
    unmatched,
  };
}
