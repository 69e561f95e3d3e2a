import { changePrecedence, type ChangeEffect, type Precedence, type StandingChange } from '../../lambdas/domain/change-precedence';
import { deepFreeze } from '../support/freeze';

/**
 * Rule 5 alone: which of the change a token stands on and an incoming one takes precedence. Pure; the decision that
 * uses it (applyVirtualCardChange) is covered by its own suites.
 */

const AT = (second: number): string => `2026-01-03T00:00:0${second}.000Z`;

/** A token whose state was set by a wallet SUSPEND that arrived at AT(2), its last change. */
function standing(overrides: Partial<StandingChange> = {}): StandingChange {
  return deepFreeze({ lastOperationOrder: null, lastStateChangeAt: AT(2), updatedAt: AT(2), lastAction: 'SUSPEND', ...overrides });
}

interface Row {
  case: string;
  standing: StandingChange | null;
  effect: ChangeEffect;
  receivedAt: string;
  expected: Precedence;
}

const EFFECTS: readonly ChangeEffect[] = ['SETS_STATE', 'DELETE', 'RENEW'];

const decide = (row: Row, operationOrder: string | null): Precedence =>
  changePrecedence(row.standing, deepFreeze({ operationOrder, effect: row.effect, receivedAt: row.receivedAt }));

describe('changePrecedence: a token unknown to us', () => {
  const rows = EFFECTS.flatMap((effect) => [null, '0001'].map((operationOrder) => ({ effect, operationOrder })));

  it.each(rows)('a $effect (operation order $operationOrder) applies as the last change', ({ effect, operationOrder }) => {
    expect(changePrecedence(null, { operationOrder, effect, receivedAt: AT(1) })).toBe('APPLIES_AS_LAST');
  });
});

describe('changePrecedence: our operations follow creation order', () => {
  const fromB = (overrides: Partial<StandingChange> = {}) => standing({ lastOperationOrder: 'b', lastAction: 'SUSPEND', ...overrides });

  it.each<Row & { order: string }>([
    {
      case: 'a state change of an older operation, arrived later',
      standing: fromB(),
      order: 'a',
      effect: 'SETS_STATE',
      receivedAt: AT(3),
      expected: 'SUPERSEDED',
    },
    {
      case: 'a DELETE of an older operation (terminal is no exemption here)',
      standing: fromB(),
      order: 'a',
      effect: 'DELETE',
      receivedAt: AT(3),
      expected: 'SUPERSEDED',
    },
    { case: 'a RENEW of an older operation', standing: fromB(), order: 'a', effect: 'RENEW', receivedAt: AT(3), expected: 'SUPERSEDED' },
    {
      case: 'the same operation again (not created after itself)',
      standing: fromB(),
      order: 'b',
      effect: 'SETS_STATE',
      receivedAt: AT(3),
      expected: 'APPLIES_AS_LAST',
    },
    {
      case: 'a newer operation that arrived before everything',
      standing: fromB(),
      order: 'c',
      effect: 'SETS_STATE',
      receivedAt: AT(1),
      expected: 'APPLIES_AS_LAST',
    },
    {
      case: 'an operation behind an external last change',
      standing: standing(),
      order: 'a',
      effect: 'SETS_STATE',
      receivedAt: AT(3),
      expected: 'APPLIES_AS_LAST',
    },
    {
      case: 'an operation that arrived before the external state change (no arrival order)',
      standing: standing(),
      order: 'a',
      effect: 'SETS_STATE',
      receivedAt: AT(1),
      expected: 'APPLIES_AS_LAST',
    },
    {
      case: 'an operation that arrived before a RENEW standing as the last change',
      standing: standing({ lastAction: 'RENEW', updatedAt: AT(3) }),
      order: 'a',
      effect: 'SETS_STATE',
      receivedAt: AT(1),
      expected: 'APPLIES_AS_LAST',
    },
    {
      case: "an operation's RENEW that arrived before the last change",
      standing: standing({ updatedAt: AT(3) }),
      order: 'a',
      effect: 'RENEW',
      receivedAt: AT(1),
      expected: 'APPLIES_AS_LAST',
    },
  ])('$case → $expected', (row) => {
    expect(decide(row, row.order)).toBe(row.expected);
  });
});

describe('changePrecedence: external changes follow arrival order', () => {
  // A RENEW that arrived at AT(3) stands as the last change; the state was set at AT(2).
  const behindRenew = (overrides: Partial<StandingChange> = {}) => standing({ lastAction: 'RENEW', updatedAt: AT(3), ...overrides });

  it.each<Row>([
    {
      case: 'a state change that arrived before the one that set the state',
      standing: standing(),
      effect: 'SETS_STATE',
      receivedAt: AT(1),
      expected: 'OUT_OF_ORDER',
    },
    { case: 'a state change that arrived at the same instant', standing: standing(), effect: 'SETS_STATE', receivedAt: AT(2), expected: 'APPLIES_AS_LAST' },
    { case: 'a state change that arrived later', standing: standing(), effect: 'SETS_STATE', receivedAt: AT(3), expected: 'APPLIES_AS_LAST' },
    {
      case: 'a state change behind a later-created operation (never superseded)',
      standing: standing({ lastOperationOrder: 'zzz' }),
      effect: 'SETS_STATE',
      receivedAt: AT(3),
      expected: 'APPLIES_AS_LAST',
    },
    {
      case: 'a state change, token without a recorded state arrival (never late)',
      standing: standing({ lastStateChangeAt: null }),
      effect: 'SETS_STATE',
      receivedAt: AT(1),
      expected: 'APPLIES_AS_LAST',
    },
    {
      case: 'a state change behind an operation applied after a later arrival (creation order)',
      standing: standing({ lastOperationOrder: 'a', lastStateChangeAt: AT(1), updatedAt: AT(3) }),
      effect: 'SETS_STATE',
      receivedAt: AT(2),
      expected: 'APPLIES_AS_LAST',
    },
    {
      case: 'a state change that arrived before a reconciliation was written',
      standing: standing({ lastAction: 'RECONCILE', lastStateChangeAt: AT(1), updatedAt: AT(3) }),
      effect: 'SETS_STATE',
      receivedAt: AT(2),
      expected: 'APPLIES_AS_LAST',
    },
    {
      case: 'a state change that arrived before the state was set, behind a RENEW',
      standing: behindRenew(),
      effect: 'SETS_STATE',
      receivedAt: AT(1),
      expected: 'OUT_OF_ORDER',
    },
    {
      case: 'a state change that arrived between the state change and a later RENEW',
      standing: behindRenew({ lastStateChangeAt: AT(1) }),
      effect: 'SETS_STATE',
      receivedAt: AT(2),
      expected: 'APPLIES_BEHIND_LAST',
    },
    {
      case: 'a state change before a RENEW that first showed us the token',
      standing: behindRenew({ lastStateChangeAt: null }),
      effect: 'SETS_STATE',
      receivedAt: AT(1),
      expected: 'APPLIES_BEHIND_LAST',
    },
    {
      case: 'a state change after the RENEW standing as the last change',
      standing: behindRenew(),
      effect: 'SETS_STATE',
      receivedAt: AT(4),
      expected: 'APPLIES_AS_LAST',
    },
  ])('$case → $expected', (row) => {
    expect(decide(row, null)).toBe(row.expected);
  });
});

describe('changePrecedence: an external DELETE is terminal whatever the order', () => {
  it.each<Row>([
    { case: 'arrived before the one that set the state', standing: standing(), effect: 'DELETE', receivedAt: AT(1), expected: 'APPLIES_AS_LAST' },
    {
      case: 'arrived before a RENEW standing as the last change',
      standing: standing({ lastAction: 'RENEW', updatedAt: AT(3) }),
      effect: 'DELETE',
      receivedAt: AT(1),
      expected: 'APPLIES_AS_LAST',
    },
    {
      case: 'arrived behind a later-created operation',
      standing: standing({ lastOperationOrder: 'zzz' }),
      effect: 'DELETE',
      receivedAt: AT(1),
      expected: 'APPLIES_AS_LAST',
    },
    { case: 'arrived later', standing: standing(), effect: 'DELETE', receivedAt: AT(3), expected: 'APPLIES_AS_LAST' },
  ])('$case → $expected', (row) => {
    expect(decide(row, null)).toBe(row.expected);
  });
});

describe('changePrecedence: an external RENEW is stateless, never late, and stands last only in arrival order', () => {
  it.each<Row>([
    { case: 'arrived before the one that set the state', standing: standing(), effect: 'RENEW', receivedAt: AT(1), expected: 'APPLIES_BEHIND_LAST' },
    {
      case: 'arrived before a later RENEW',
      standing: standing({ lastAction: 'RENEW', lastStateChangeAt: AT(1), updatedAt: AT(3) }),
      effect: 'RENEW',
      receivedAt: AT(2),
      expected: 'APPLIES_BEHIND_LAST',
    },
    {
      case: 'arrived before a reconciliation was written',
      standing: standing({ lastAction: 'RECONCILE', lastStateChangeAt: AT(1), updatedAt: AT(3) }),
      effect: 'RENEW',
      receivedAt: AT(2),
      expected: 'APPLIES_BEHIND_LAST',
    },
    {
      case: 'arrived before the RENEW that first showed us the token',
      standing: standing({ lastAction: 'RENEW', lastStateChangeAt: null }),
      effect: 'RENEW',
      receivedAt: AT(1),
      expected: 'APPLIES_BEHIND_LAST',
    },
    { case: 'arrived at the same instant as the last change', standing: standing(), effect: 'RENEW', receivedAt: AT(2), expected: 'APPLIES_AS_LAST' },
    { case: 'arrived later', standing: standing(), effect: 'RENEW', receivedAt: AT(3), expected: 'APPLIES_AS_LAST' },
    {
      case: 'behind a later-created operation (never superseded)',
      standing: standing({ lastOperationOrder: 'zzz' }),
      effect: 'RENEW',
      receivedAt: AT(3),
      expected: 'APPLIES_AS_LAST',
    },
  ])('$case → $expected', (row) => {
    expect(decide(row, null)).toBe(row.expected);
  });
});
