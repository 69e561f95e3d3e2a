import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import {
  afterThrottle,
  bulkLimitOf,
  capacityAt,
  effectiveRate,
  firstSlotFrom,
  lastSlotBy,
  MAX_WAIT_MS,
  paceGrid,
  RELEASE_MS,
  slotTime,
  STALE_MS,
  type PaceBackoff,
  type PaceGrid,
  type PaceLane,
} from '../domain/d1-pace';
import type { D1Pacer, PaceGrant } from '../ports/d1-pacer';

/**
 * Item layout (single table, DESIGN §9's pace):
 *   second's slots   pk=PACE#d1  sk=SECOND#<epochSecond>  n (slots handed out), c (capacity), bl (bulk limit), expiresAt
 *   back-off         pk=PACE#d1  sk=BACKOFF               rate, cutAtMs, expiresAt
 * One partition: every claim is a write to it, so D1_MAX_TPS stays well under DynamoDB's ~1 000 writes/s per partition.
 * A slot is granted by a conditional ADD (never read-then-write): the condition is the second's room for the lane.
 */
const PK = 'PACE#d1';
const secondKey = (second: number) => ({ pk: PK, sk: `SECOND#${second}` });
const BACKOFF_KEY = { pk: PK, sk: 'BACKOFF' };
/** Counters are useless once their second is gone; TTL removes them an hour later. */
const SECOND_TTL_S = 3600;
const BACKOFF_TTL_S = 86_400;
/** How long a read of the back-off item is trusted: a cut elsewhere reaches this instance within this much. */
const BACKOFF_CACHE_MS = 250;
/** A jump to a fresh slot aims this far ahead, so the write's round trip does not make it stale again. */
const JUMP_AHEAD_MS = 15;
/** Claims (and wake-ups too late to call) per acquire before the attempt goes back to the queue. */
const MAX_CLAIMS = 8;

interface SecondState {
  n: number;
  c: number;
  bl: number;
}

export interface DynamoDbD1PacerOptions {
  tableName: string;
  maxTps: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

const isConditionFailure = (err: unknown): err is ConditionalCheckFailedException => err instanceof ConditionalCheckFailedException;

interface Waiter {
  deadline: number;
  resolve: (at: number | null) => void;
  reject: (err: unknown) => void;
}

export class DynamoDbD1Pacer implements D1Pacer {
  private readonly grid: PaceGrid;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  /** What this instance last saw of each second (counters only grow, so a full second stays full). */
  private readonly seconds = new Map<number, SecondState>();
  private backoff: { value: PaceBackoff | null; readAtMs: number } | null = null;
  /** Acquires waiting for the lane's next claim, and whether one is under way: one write claims for all of them. */
  private readonly waiting: Record<PaceLane, Waiter[]> = { interactive: [], bulk: [] };
  private readonly claiming: Record<PaceLane, boolean> = { interactive: false, bulk: false };
  private standingBy = false;

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly options: DynamoDbD1PacerOptions,
  ) {
    this.grid = paceGrid(options.maxTps);
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  async acquire(lane: PaceLane): Promise<PaceGrant> {
    // The whole wait, stand-bys and slots given up included, fits in MAX_WAIT_MS: a message is never held for long.
    const deadline = this.now() + MAX_WAIT_MS;
    for (let claim = 0; claim < MAX_CLAIMS && this.now() < deadline; claim++) {
      const at = await this.slot(lane, deadline);
      if (at === null) {
        // No room for bulk: one caller per instance stands by for the next interactive reserve to be released.
        const release = lane === 'bulk' && !this.standingBy ? this.nextRelease(deadline) : null;
        if (release === null) break;
        this.standingBy = true;
        await this.sleepUntil(release).finally(() => (this.standingBy = false));
        continue;
      }
      await this.sleepUntil(at);
      // Woken too late: calling now could crowd the next second's calls into one window. Give the slot up.
      if (this.now() - at <= STALE_MS) return { kind: 'go' };
    }
    return { kind: 'later', delaySeconds: 1 };
  }

  private async sleepUntil(at: number): Promise<void> {
    for (let wait = at - this.now(); wait > 0; wait = at - this.now()) await this.sleep(wait);
  }

  /** When the next reserved slot this instance knows of is released to the bulk lane, if it comes before `deadline`. */
  private nextRelease(deadline: number): number | null {
    const now = this.now();
    for (const second of [Math.floor(now / 1000), Math.floor(now / 1000) + 1]) {
      const known = this.seconds.get(second);
      if (!known || known.n >= known.c) continue;
      const at = slotTime(this.grid, second, Math.max(known.n, known.bl) + 1, known.c);
      if (at > now + STALE_MS && at <= deadline) return Math.max(now, at - RELEASE_MS);
    }
    return null;
  }

  /**
   * One slot for this caller. The records of a batch ask at once; one counter write per lane at a time claims for
   * every caller waiting, so a busy instance does not contend with itself on the hot item.
   */
  private slot(lane: PaceLane, deadline: number): Promise<number | null> {
    return new Promise((resolve, reject) => {
      this.waiting[lane].push({ deadline, resolve, reject });
      if (!this.claiming[lane]) void this.claimForWaiting(lane);
    });
  }

  private async claimForWaiting(lane: PaceLane): Promise<void> {
    this.claiming[lane] = true;
    try {
      while (this.waiting[lane].length > 0) {
        // Latest deadline first: it can use the latest slots, so the earliest slots go to those that cannot wait.
        const waiters = this.waiting[lane].splice(0).sort((a, b) => b.deadline - a.deadline);
        try {
          const slots = await this.claim(lane, waiters.length, waiters[0]!.deadline);
          // Slots come earliest first; each waiter takes the earliest one before its deadline.
          for (const w of [...waiters].reverse()) {
            const i = slots.findIndex((at) => at <= w.deadline);
            w.resolve(i < 0 ? null : slots.splice(i, 1)[0]!);
          }
        } catch (err) {
          waiters.forEach((w) => w.reject(err));
        }
      }
    } finally {
      this.claiming[lane] = false;
    }
  }

  async throttled(): Promise<void> {
    const now = this.now();
    const next = afterThrottle(this.options.maxTps, await this.currentBackoff(now, true), now);
    if (!next) return;
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.options.tableName,
          Item: { ...BACKOFF_KEY, entity: 'D1_PACE', ...next, expiresAt: Math.floor(now / 1000) + BACKOFF_TTL_S },
          // One cut per hold period, however many in-flight calls answer 429 at once.
          ConditionExpression: 'attribute_not_exists(cutAtMs) OR cutAtMs < :held',
          ExpressionAttributeValues: { ':held': next.cutAtMs - 1000 },
        }),
      );
      this.backoff = { value: next, readAtMs: now };
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      this.backoff = null; // another instance cut first: read its value next time
    }
  }

  /** Up to `wanted` slot times (epoch ms), earliest first; fewer when the seconds before `horizon` have no more room. */
  private async claim(lane: PaceLane, wanted: number, horizon: number): Promise<number[]> {
    const now = this.now();
    const backoff = await this.currentBackoff(now, false);
    for (const s of this.seconds.keys()) if (s < Math.floor(now / 1000)) this.seconds.delete(s);
    const slots: number[] = [];
    for (let second = Math.floor(now / 1000); slots.length < wanted && second * 1000 <= horizon; second++) {
      const capacity = capacityAt(this.grid, effectiveRate(this.options.maxTps, backoff, second * 1000));
      slots.push(...(await this.claimIn(lane, second, capacity, horizon, wanted - slots.length)));
    }
    return slots;
  }

  /** The highest slot the lane may take in the second now: its limit, within the horizon. */
  private roomFor(lane: PaceLane, second: number, state: Pick<SecondState, 'c' | 'bl'>, horizon: number): number {
    const inHorizon = lastSlotBy(this.grid, second, state.c, horizon);
    if (lane === 'interactive') return inHorizon;
    // The reserve is the interactive lane's until its slot is near; then a bulk call takes it rather than waste it.
    const released = lastSlotBy(this.grid, second, state.c, this.now() + RELEASE_MS);
    return Math.min(inHorizon, Math.max(state.bl, released));
  }

  private async claimIn(lane: PaceLane, second: number, capacity: number, horizon: number, wanted: number): Promise<number[]> {
    const fresh = { n: 0, c: capacity, bl: bulkLimitOf(capacity) };
    const got: number[] = [];
    for (let round = 0; round < 4 && got.length < wanted; round++) {
      const known = this.seconds.get(second);
      const state = known ?? fresh;
      const room = this.roomFor(lane, second, state, horizon);
      if (state.n >= room) break;
      // The counter lags the clock (the pace was idle), or this instance knows nothing of the current second yet:
      // move it straight to the first slot still ahead, instead of handing out slots already past.
      const ahead = firstSlotFrom(this.grid, second, state.c, this.now() + JUMP_AHEAD_MS);
      const lagging = known ? known.n + 1 < ahead : second === Math.floor(this.now() / 1000) && ahead > 1;
      const first = lagging ? ahead : state.n + 1;
      const count = Math.min(wanted - got.length, room - first + 1);
      if (count <= 0) break;
      const granted = lagging ? await this.advance(second, fresh, first, count) : await this.take(second, fresh, room, count);
      if (!granted) continue; // someone else moved the counter: its state is known now, try again
      for (let m = granted.n - count + 1; m <= granted.n; m++) {
        const at = slotTime(this.grid, second, m, granted.c);
        // Past the capacity (a second created at another rate) or already past: no slot; too far: given up.
        if (m <= granted.c && at >= this.now() - STALE_MS && at <= horizon) got.push(at);
      }
    }
    return got;
  }

  /** ADD `count` to the second's counter if that stays within `room`; the new state, or null (state remembered). */
  private take(second: number, fresh: Omit<SecondState, 'n'>, room: number, count: number): Promise<SecondState | null> {
    return this.updateSecond(second, fresh, {
      update: 'ADD n :count',
      condition: 'attribute_not_exists(n) OR (n < c AND n <= :before)',
      values: { ':count': count, ':before': room - count },
    });
  }

  /** Moves the counter from below `first` to `first + count - 1` (creating the second if new), granting those slots. */
  private advance(second: number, fresh: Omit<SecondState, 'n'>, first: number, count: number): Promise<SecondState | null> {
    return this.updateSecond(second, fresh, {
      update: 'SET n = :last',
      condition: 'attribute_not_exists(n) OR (n < :first AND c >= :last)',
      values: { ':first': first, ':last': first + count - 1 },
    });
  }

  /**
   * One conditional write of a second's counter: `grant` moves `n`; the second's capacity, bulk limit and expiry are
   * set only where it is new (so every consumer maps slots to the same times). The new state, or null when the
   * condition failed (the state it saw is remembered).
   */
  private async updateSecond(
    second: number,
    fresh: Omit<SecondState, 'n'>,
    grant: { update: `ADD ${string}` | `SET ${string}`; condition: string; values: Record<string, number> },
  ): Promise<SecondState | null> {
    const created = 'c = if_not_exists(c, :c), bl = if_not_exists(bl, :bl), expiresAt = if_not_exists(expiresAt, :exp), entity = :entity';
    const update = grant.update.startsWith('SET ') ? `${grant.update}, ${created}` : `SET ${created} ${grant.update}`;
    try {
      const { Attributes } = await this.client.send(
        new UpdateCommand({
          TableName: this.options.tableName,
          Key: secondKey(second),
          UpdateExpression: update,
          ConditionExpression: grant.condition,
          ExpressionAttributeValues: { ':c': fresh.c, ':bl': fresh.bl, ':exp': second + SECOND_TTL_S, ':entity': 'D1_PACE', ...grant.values },
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return this.remember(second, Attributes!);
    } catch (err) {
      this.learnFrom(second, err);
      return null;
    }
  }

  private remember(second: number, item: Record<string, unknown>): SecondState {
    const state = { n: Number(item.n), c: Number(item.c), bl: Number(item.bl) };
    this.seconds.set(second, state);
    return state;
  }

  /** A failed condition carries the item as it was: remember it, so the next round aims right. */
  private learnFrom(second: number, err: unknown): void {
    if (!isConditionFailure(err)) throw err;
    const old = err.Item ? unmarshall(err.Item as never) : undefined; // lib-dynamodb leaves it marshalled
    if (old) this.remember(second, old);
  }

  private async currentBackoff(now: number, fresh: boolean): Promise<PaceBackoff | null> {
    if (!fresh && this.backoff && now - this.backoff.readAtMs < BACKOFF_CACHE_MS) return this.backoff.value;
    const { Item } = await this.client.send(new GetCommand({ TableName: this.options.tableName, Key: BACKOFF_KEY }));
    const value = Item ? { rate: Number(Item.rate), cutAtMs: Number(Item.cutAtMs) } : null;
    this.backoff = { value, readAtMs: now };
    return value;
  }
}
