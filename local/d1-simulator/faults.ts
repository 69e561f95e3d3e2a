/**
 * Faults armed through `/_sim/faults`: on updateCardState (HTTP 500/503/429, a 400 rejection, a held-open request),
 * on the callbacks it triggers (duplicated, delayed, reordered, dropped, failed with an `errorCode` such as 221,
 * delivered before the answer) and on Create Transaction. `times` disarms a fault after that many uses.
 */
import * as z from 'zod';
import type { Planned } from './delivery';
import type { Json } from './http';
import { count, parse } from './validation';

const UPDATE_MODES = ['ok', 'http500', 'http503', 'http429', 'timeout', 'reject400'] as const;
const TRANSACTION_MODES = ['ok', 'http400', 'http404', 'http500', 'http503', 'timeout', 'badJwe'] as const;
const modeError = (section: string, modes: readonly string[]): string => `${section}.mode must be one of ${modes.join(', ')}`;
/** Anything but `true` leaves a switch off. */
const flag = z.boolean().catch(false);

const updateFaultSchema = z.object(
  {
    mode: z.enum(UPDATE_MODES, { error: modeError('updateCardState', UPDATE_MODES) }),
    responseCode: z.number({ error: 'updateCardState.responseCode must be a number' }).optional(),
    times: count('updateCardState.times', 1).optional(),
  },
  { error: modeError('updateCardState', UPDATE_MODES) },
);

const callbackFaultSchema = z
  .object(
    {
      errorCode: z.number({ error: 'callbacks.errorCode must be a number or null' }).nullish(),
      duplicate: count('callbacks.duplicate').default(0),
      delayMs: count('callbacks.delayMs').default(0),
      times: count('callbacks.times', 1).optional(),
      reorder: flag,
      drop: flag,
      beforeAnswer: flag,
    },
    { error: 'callbacks must be an object' },
  )
  // The order `GET /_sim/faults` shows the fields in.
  .transform(({ errorCode, duplicate, delayMs, times, reorder, drop, beforeAnswer }) => ({
    duplicate,
    delayMs,
    reorder,
    errorCode: errorCode ?? null,
    drop,
    beforeAnswer,
    ...(times !== undefined ? { times } : {}),
  }));

const transactionFaultSchema = z.object(
  {
    mode: z.enum(TRANSACTION_MODES, { error: modeError('transactions', TRANSACTION_MODES) }),
    times: count('transactions.times', 1).optional(),
  },
  { error: modeError('transactions', TRANSACTION_MODES) },
);

type UpdateFault = z.output<typeof updateFaultSchema>;
type TransactionFault = z.output<typeof transactionFaultSchema>;
export interface CallbackFault {
  duplicate?: number;
  delayMs?: number;
  reorder?: boolean;
  errorCode?: number | null;
  drop?: boolean;
  /** Deliver the callbacks before answering updateCardState (DESIGN §2 rule 8: a callback may beat the answer). */
  beforeAnswer?: boolean;
  times?: number;
}

interface Armed {
  update: UpdateFault;
  callbacks: CallbackFault;
  transactions: TransactionFault;
}
const DISARMED = (): Armed => ({ update: { mode: 'ok' }, callbacks: {}, transactions: { mode: 'ok' } });

export class Faults {
  private armed = DISARMED();

  view(): Json {
    return { updateCardState: this.armed.update, callbacks: this.armed.callbacks, transactions: this.armed.transactions };
  }

  /** Arms the sections given, in order; a bad section throws BadRequest, leaving the ones before it armed. */
  set(body: Json): void {
    if (body.updateCardState !== undefined) this.armed.update = parse(updateFaultSchema, body.updateCardState);
    if (body.callbacks !== undefined) this.armed.callbacks = parse(callbackFaultSchema, body.callbacks);
    if (body.transactions !== undefined) this.armed.transactions = parse(transactionFaultSchema, body.transactions);
  }

  clear(): void {
    this.armed = DISARMED();
  }

  takeUpdate(): UpdateFault {
    return this.take('update');
  }

  takeCallbacks(): CallbackFault {
    return this.take('callbacks');
  }

  takeTransaction(): TransactionFault {
    return this.take('transactions');
  }

  /** The fault for one use, disarming it once its `times` are used up. */
  private take<K extends keyof Armed>(section: K): Armed[K] {
    const fault = this.armed[section];
    if (fault.times !== undefined && --fault.times <= 0) this.armed[section] = DISARMED()[section];
    return fault;
  }
}

/**
 * The callbacks updateCardState triggers, as the callback fault has them: each with its `errorCode`, duplicated
 * and delayed, in reverse order, or none at all when dropped.
 */
export function faultyCallbacks(fault: CallbackFault, correlationId: string, bodies: Json[]): Planned[] {
  if (fault.drop) return [];
  const failed = typeof fault.errorCode === 'number';
  const plan = bodies.map((body): Planned => ({
    kind: 'callback',
    correlationId,
    body: { ...body, ...(failed ? { errorCode: fault.errorCode } : {}) },
    copies: 1 + (fault.duplicate ?? 0),
    delayMs: fault.delayMs ?? 0,
    concurrent: false,
  }));
  return fault.reorder ? plan.reverse() : plan;
}
