import { D1IssuerClient } from '../../lambdas/adapters/d1-issuer-client';
import { DynamoDbTokenStore } from '../../lambdas/adapters/dynamodb-token-store';
import { decideCallback } from '../../lambdas/domain/callback';
import { isConsoleAgent, mayRequest, requestedBy, roleNameOf } from '../../lambdas/domain/console-access';
import { newOperation } from '../../lambdas/domain/operation';
import { applyCorrection, planCorrections, planDeviceUpdates, type D1VirtualCard } from '../../lambdas/domain/reconciliation';
import { deviceFrom, sameDevice, tokenView, type Token, type TokenDevice, type TokenState } from '../../lambdas/domain/token';
import { applyVirtualCardChange, type VirtualCardChange } from '../../lambdas/domain/virtual-card-change';
import { callerOf, callerIdentity } from '../../lambdas/http/caller';
import type { HttpEvent } from '../../lambdas/http/route';
import type { ChangeRecord } from '../../lambdas/ports/token-store';
import { itemBytes } from '../../bench/counters';
import { ConfigError, loadEnv } from '../../lambdas/config/env';
import { deepFreeze } from '../support/freeze';
import { storedToken } from '../support/tokens';

/**
 * Who asked (requestedBy on history and token events), where a token lives (tokenStorageId, walletCardRefId, device)
 * and who may DELETE (console agents may not): the pure parts, and the size of what the callback transaction writes.
 */

const RECEIVED = '2026-12-04T02:00:00.000Z';
const LATER = '2026-12-04T02:00:01.000Z';
const AGENT_ROLE = 'token-console-agents';
const AGENT_SESSION = `arn:aws:sts::123456789012:assumed-role/${AGENT_ROLE}/CognitoIdentityCredentials`;

function token(state: TokenState, overrides: Partial<Token> = {}): Token {
  return storedToken({ state, updatedAt: RECEIVED, version: 3, ...overrides });
}

const change = (overrides: Partial<VirtualCardChange> = {}): VirtualCardChange =>
  deepFreeze({
    correlationId: 'corr-1',
    issuerCardRefId: 'card-1',
    virtualCardId: 'vc-1',
    action: 'SUSPEND',
    errorCode: null,
    source: 'WALLET',
    walletProviderId: null,
    receivedAt: LATER,
    ...overrides,
  });

const phone: TokenDevice = { manufacturer: 'Apple', model: 'iPhone 15', deviceName: "Ana's iPhone" };

describe('requestedBy (DESIGN §3): who asked', () => {
  it('the Cognito identity when one signed the call (the human; the role is their group’s), else the ARN, else null', () => {
    expect(requestedBy({ userArn: AGENT_SESSION, cognitoIdentityId: 'eu-west-1:0b8e3c1a-1111-2222-3333-444455556666' })).toBe(
      'cognito:eu-west-1:0b8e3c1a-1111-2222-3333-444455556666',
    );
    expect(requestedBy({ userArn: 'arn:aws:iam::123456789012:user/backoffice', cognitoIdentityId: null })).toBe('arn:aws:iam::123456789012:user/backoffice');
    expect(requestedBy({ userArn: null, cognitoIdentityId: null })).toBeNull();
    expect(requestedBy({ userArn: '', cognitoIdentityId: '' })).toBeNull();
  });

  it('callerOf reads API Gateway’s IAM authorizer context, cognitoIdentity included (the aws-lambda types say null)', () => {
    const event = (requestContext: unknown) => ({ requestContext }) as unknown as HttpEvent;
    const signed = event({
      authorizer: {
        iam: { userArn: AGENT_SESSION, cognitoIdentity: { amr: ['authenticated'], identityId: 'eu-west-1:abc', identityPoolId: 'eu-west-1:pool' } },
      },
    });
    expect(callerOf(signed)).toEqual({ userArn: AGENT_SESSION, cognitoIdentityId: 'eu-west-1:abc' });
    expect(callerIdentity(signed)).toBe('cognito:eu-west-1:abc');
    expect(callerOf(event({ authorizer: { iam: { userArn: AGENT_SESSION, cognitoIdentity: null } } }))).toEqual({
      userArn: AGENT_SESSION,
      cognitoIdentityId: null,
    });
    expect(callerOf(event({ authorizer: { iam: null } }))).toEqual({ userArn: null, cognitoIdentityId: null });
    expect(callerOf(event(undefined))).toEqual({ userArn: null, cognitoIdentityId: null });
  });

  it('every history event an operation of ours causes carries its requestedBy; other changes carry null', () => {
    const op = {
      ...newOperation({
        operationId: 'op-1',
        action: 'SUSPEND',
        issuerCardRefId: 'card-1',
        virtualCardId: 'vc-1',
        expectedTokens: ['vc-1'],
        now: new Date(RECEIVED),
        sequence: 1,
        requestedBy: 'cognito:eu-west-1:abc',
      }),
      status: 'SUBMITTED' as const,
    };
    const ours = decideCallback(token('ACTIVE'), op, change({ correlationId: 'op-1', source: 'ISSUER' }));
    expect(ours.change.event).toMatchObject({ outcome: 'APPLIED', operationId: 'op-1', requestedBy: 'cognito:eu-west-1:abc' });
    const failed = decideCallback(token('ACTIVE'), op, change({ correlationId: 'op-1', errorCode: 221 }));
    expect(failed.change.event).toMatchObject({ outcome: 'FAILED', requestedBy: 'cognito:eu-west-1:abc' });
    // A second, different outcome for the same operation and token: IGNORED, still the operation's.
    const recorded = { ...op, tokens: [{ virtualCardId: 'vc-1', outcome: 'SUCCEEDED' as const, at: RECEIVED }] };
    expect(decideCallback(token('SUSPENDED'), recorded, change({ correlationId: 'op-1', errorCode: 221 })).change.event).toMatchObject({
      outcome: 'IGNORED',
      requestedBy: 'cognito:eu-west-1:abc',
    });
    expect(decideCallback(token('ACTIVE'), null, change()).change.event.requestedBy).toBeNull();
    const correction = applyCorrection(
      token('ACTIVE'),
      'card-1',
      { virtualCardId: 'vc-1', from: 'ACTIVE', to: 'SUSPENDED', walletProviderId: null },
      'rec-1',
      new Date(LATER),
    );
    expect(correction.event.requestedBy).toBeNull();
  });
});

describe('console agents may not DELETE', () => {
  it.each([
    [AGENT_SESSION, AGENT_ROLE],
    [`arn:aws:iam::123456789012:role/${AGENT_ROLE}`, AGENT_ROLE],
    [`arn:aws:iam::123456789012:role/console/${AGENT_ROLE}`, AGENT_ROLE],
    [`arn:aws-us-gov:sts::123456789012:assumed-role/${AGENT_ROLE}/jane@example.com`, AGENT_ROLE],
    ['arn:aws:iam::123456789012:user/backoffice', null],
    ['arn:aws:sts::123456789012:federated-user/bob', null],
    ['arn:aws:sts::123456789012:assumed-role/only-role', null],
    ['arn:aws:sts::123456789012:assumed-role//session', null],
    ['arn:aws:iam::123456789012:role/', null],
    ['not-an-arn', null],
    ['arm:aws:sts::1:assumed-role/a/b', null],
  ])('roleNameOf(%s) = %s', (arn, role) => {
    expect(roleNameOf(arn)).toBe(role);
  });

  it('an agent’s role (a session of it, or the role ARN; any case) asking DELETE is refused; SUSPEND and RESUME are not', () => {
    for (const userArn of [AGENT_SESSION, `arn:aws:iam::123456789012:role/${AGENT_ROLE}`, AGENT_SESSION.replace(AGENT_ROLE, AGENT_ROLE.toUpperCase())]) {
      expect(isConsoleAgent({ userArn }, AGENT_ROLE)).toBe(true);
      expect(mayRequest('DELETE', { userArn }, AGENT_ROLE)).toBe(false);
      expect(mayRequest('SUSPEND', { userArn }, AGENT_ROLE)).toBe(true);
      expect(mayRequest('RESUME', { userArn }, AGENT_ROLE)).toBe(true);
    }
  });

  it('CONSOLE_AGENT_ROLE_NAME: optional, an IAM role name (not an ARN); a bad one names the variable, not its value', () => {
    expect(loadEnv(['CONSOLE_AGENT_ROLE_NAME'], {})).toEqual({});
    expect(loadEnv(['CONSOLE_AGENT_ROLE_NAME'], { CONSOLE_AGENT_ROLE_NAME: AGENT_ROLE })).toEqual({ CONSOLE_AGENT_ROLE_NAME: AGENT_ROLE });
    for (const bad of [`arn:aws:iam::1:role/${AGENT_ROLE}`, 'a'.repeat(65), '', 'agents team']) {
      const error = (() => {
        try {
          loadEnv(['CONSOLE_AGENT_ROLE_NAME'], { CONSOLE_AGENT_ROLE_NAME: bad });
        } catch (err) {
          return err;
        }
        return undefined;
      })();
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).variables).toEqual(['CONSOLE_AGENT_ROLE_NAME']);
    }
  });

  it('supervisors, other principals, unsigned calls and an unset CONSOLE_AGENT_ROLE_NAME may DELETE', () => {
    const supervisor = 'arn:aws:sts::123456789012:assumed-role/token-console-supervisors/CognitoIdentityCredentials';
    expect(mayRequest('DELETE', { userArn: supervisor }, AGENT_ROLE)).toBe(true);
    expect(mayRequest('DELETE', { userArn: `arn:aws:sts::1:assumed-role/${AGENT_ROLE}-x/s` }, AGENT_ROLE)).toBe(true);
    expect(mayRequest('DELETE', { userArn: 'arn:aws:iam::1:user/backoffice' }, AGENT_ROLE)).toBe(true);
    expect(mayRequest('DELETE', { userArn: null }, AGENT_ROLE)).toBe(true);
    expect(mayRequest('DELETE', { userArn: AGENT_SESSION }, undefined)).toBe(true);
    expect(mayRequest('DELETE', { userArn: AGENT_SESSION }, '')).toBe(true);
  });
});

describe('the device: manufacturer, model and name only', () => {
  it('drops every identifier D1 sends (IMEI, phone number, serial, device id) and anything else', () => {
    const device = deviceFrom({
      deviceId: 'dev-1',
      deviceType: 'MOBILE_PHONE',
      manufacturer: 'Apple',
      model: 'iPhone 15',
      deviceName: "Ana's iPhone",
      imei: '356938035643809',
      msisdn: '+491510000000',
      phoneNumber: '+491510000000',
      serialNumber: 'F2LXK0AAHG7F',
      tokenInfo: { dpan: '4111111111111111' },
    });
    expect(device).toEqual(phone);
    expect(Object.keys(device!).sort()).toEqual(['deviceName', 'manufacturer', 'model']);
  });

  it('keeps at most 64 characters (whole code points), trims, drops control characters; a non-string is null', () => {
    const long = `${'x'.repeat(63)}😀😀`;
    expect(deviceFrom({ manufacturer: long, model: '  Pixel\u0000 8\n ', deviceName: 42 })).toEqual({
      manufacturer: `${'x'.repeat(63)}😀`,
      model: 'Pixel 8',
      deviceName: null,
    });
    expect(deviceFrom({ manufacturer: 'a'.repeat(100) })!.manufacturer).toHaveLength(64);
  });

  it('null when nothing usable is there', () => {
    for (const info of [undefined, null, 'a phone', ['Apple'], {}, { imei: '356938035643809' }, { manufacturer: '   ', model: {}, deviceName: null }]) {
      expect(deviceFrom(info)).toBeNull();
    }
  });

  it('sameDevice compares the three fields', () => {
    expect(sameDevice(null, null)).toBe(true);
    expect(sameDevice(phone, { ...phone })).toBe(true);
    expect(sameDevice(phone, null)).toBe(false);
    expect(sameDevice(null, phone)).toBe(false);
    expect(sameDevice(phone, { ...phone, deviceName: 'other' })).toBe(false);
  });

  it('reconciliation: a correction takes D1’s device; tokens in sync get a device update when it differs', () => {
    const d1 = (virtualCardId: string, status: string, device?: TokenDevice | null): D1VirtualCard => ({
      virtualCardId,
      status,
      ...(device !== undefined ? { device } : {}),
    });
    const ours = [
      token('ACTIVE', { virtualCardId: 'vc-drift' }),
      token('ACTIVE', { virtualCardId: 'vc-new-device' }),
      token('ACTIVE', { virtualCardId: 'vc-same', device: phone }),
      token('ACTIVE', { virtualCardId: 'vc-no-device', device: phone }),
      token('DELETED', { virtualCardId: 'vc-deleted' }),
    ];
    const listed = [
      d1('vc-drift', 'SUSPENDED', phone),
      d1('vc-new-device', 'RESUMED', phone),
      d1('vc-same', 'RESUMED', { ...phone }),
      d1('vc-no-device', 'RESUMED', null),
      d1('vc-deleted', 'DELETED', phone),
      d1('vc-only-d1', 'RESUMED', phone),
      d1('vc-only-d1-bare', 'RESUMED'),
    ];
    const corrections = planCorrections(ours, listed);
    expect(corrections.find((c) => c.virtualCardId === 'vc-drift')).toMatchObject({ to: 'SUSPENDED', device: phone });
    expect(corrections.find((c) => c.virtualCardId === 'vc-only-d1')).toMatchObject({ from: null, device: phone });
    expect(corrections.find((c) => c.virtualCardId === 'vc-only-d1-bare')).not.toHaveProperty('device');
    expect(planDeviceUpdates(ours, listed, corrections).map((u) => [u.token.virtualCardId, u.device])).toEqual([['vc-new-device', phone]]);

    const fixed = applyCorrection(ours[0]!, 'card-1', corrections[0]!, 'rec-1', new Date(LATER));
    expect(fixed.token.device).toEqual(phone);
    // Without a device from D1 the correction keeps the stored one, and the wallet ids always.
    const kept = applyCorrection(
      token('ACTIVE', { device: phone, tokenStorageId: 'se-1', walletCardRefId: 'FAPL1' }),
      'card-1',
      { virtualCardId: 'vc-1', from: 'ACTIVE', to: 'SUSPENDED', walletProviderId: null },
      'rec-2',
      new Date(LATER),
    );
    expect(kept.token).toMatchObject({ device: phone, tokenStorageId: 'se-1', walletCardRefId: 'FAPL1' });
  });
});

describe('tokenStorageId and walletCardRefId: from the last applied callback that carries them', () => {
  it('an applied callback sets them; one without them keeps them; a failed or ignored one changes nothing', () => {
    const first = applyVirtualCardChange(null, change({ action: 'ACTIVATE', tokenStorageId: 'se-1', walletCardRefId: 'FAPL1', receivedAt: RECEIVED }));
    expect(first.token).toMatchObject({ tokenStorageId: 'se-1', walletCardRefId: 'FAPL1', device: null });
    const current = { ...first.token!, version: 1 };
    expect(applyVirtualCardChange(current, change()).token).toMatchObject({ tokenStorageId: 'se-1', walletCardRefId: 'FAPL1' });
    expect(applyVirtualCardChange(current, change({ tokenStorageId: 'se-2', walletCardRefId: null })).token).toMatchObject({
      tokenStorageId: 'se-2',
      walletCardRefId: 'FAPL1',
    });
    expect(applyVirtualCardChange(current, change({ tokenStorageId: 'se-2', errorCode: 221 })).token).toMatchObject({ tokenStorageId: 'se-1' });
    expect(applyVirtualCardChange(current, change({ action: 'UPDATE', tokenStorageId: 'se-2' })).token).toMatchObject({ tokenStorageId: 'se-1' });
    // A callback keeps the device reconciliation stored.
    expect(applyVirtualCardChange({ ...current, device: phone }, change()).token!.device).toEqual(phone);
  });

  it('a change that applies behind a later-arrived RENEW leaves the RENEW’s values standing, filling only what it lacks', () => {
    const renewed = token('ACTIVE', { lastAction: 'RENEW', updatedAt: LATER, lastStateChangeAt: RECEIVED, tokenStorageId: 'se-renew' });
    const d = applyVirtualCardChange(renewed, change({ receivedAt: '2026-12-04T02:00:00.500Z', tokenStorageId: 'se-early', walletCardRefId: 'FAPL-early' }));
    expect(d.token).toMatchObject({ state: 'SUSPENDED', lastAction: 'RENEW', tokenStorageId: 'se-renew', walletCardRefId: 'FAPL-early' });
    const bare = applyVirtualCardChange(renewed, change({ receivedAt: '2026-12-04T02:00:00.500Z' }));
    expect(bare.token).toMatchObject({ tokenStorageId: 'se-renew', walletCardRefId: null });
  });

  it('the public Token shows them, and no bookkeeping', () => {
    expect(tokenView(token('ACTIVE', { tokenStorageId: 'se-1', walletCardRefId: 'FAPL1', device: phone }))).toMatchObject({
      tokenStorageId: 'se-1',
      walletCardRefId: 'FAPL1',
      device: phone,
    });
  });
});

describe('the D1 client reads getCardInfo’s deviceInformation down to the device', () => {
  const client = (body: unknown) =>
    new D1IssuerClient({ baseUrl: 'https://d1.test/igw', issuerId: 'ISSUER0001', timeoutMs: 1000, fetch: async () => Response.json(body) });

  it('manufacturer, model, name; a malformed deviceInformation costs the device, not the answer', async () => {
    const answer = await client({
      issuerCardRefId: 'card-1',
      virtualCardList: [
        {
          virtualCardId: 'vc-1',
          issuerCardRefId: 'card-1',
          walletProviderId: 'APPLE_PAY',
          status: 'RESUMED',
          deviceInformation: { ...phone, imei: '356938035643809', msisdn: '+491510000000' },
        },
        { virtualCardId: 'vc-2', status: 'SUSPENDED', deviceInformation: 'garbage' },
        { virtualCardId: 'vc-3', status: 'SUSPENDED' },
      ],
    }).getCardInfo({ issuerCardRefId: 'card-1', correlationId: 'rec-1' });
    expect(answer).toEqual({
      kind: 'ok',
      virtualCards: [
        { virtualCardId: 'vc-1', walletProviderId: 'APPLE_PAY', status: 'RESUMED', device: phone },
        { virtualCardId: 'vc-2', status: 'SUSPENDED', device: null },
        { virtualCardId: 'vc-3', status: 'SUSPENDED', device: null },
      ],
    });
    expect(JSON.stringify(answer)).not.toMatch(/3569|\+4915|imei|msisdn/);
  });
});

describe('what the callback transaction writes stays under 1 KB per item (over it, each doubles its write units)', () => {
  /** The items recordChange puts, captured from the TransactWriteItems it sends. */
  async function itemsWritten(record: ChangeRecord): Promise<Record<string, unknown>[]> {
    let sent: { TransactItems: { Put?: { Item: Record<string, unknown> } }[] } | undefined;
    const client = { send: async (command: { input: typeof sent }) => ((sent = command.input), {}) };
    await new DynamoDbTokenStore(client as never, { tableName: 'token-lifecycle' }).recordChange(record);
    return sent!.TransactItems.flatMap((item) => (item.Put ? [item.Put.Item] : []));
  }

  it('an external callback writes no null requestedBy, wallet ids or device', async () => {
    const decision = applyVirtualCardChange(token('ACTIVE'), change());
    const [event, tokenItem] = await itemsWritten({ dedupeKey: 'k', virtualCardId: 'vc-1', expectedVersion: 3, token: decision.token, event: decision.event });
    expect(event).not.toHaveProperty('requestedBy');
    expect(tokenItem).not.toHaveProperty('tokenStorageId');
    expect(tokenItem).not.toHaveProperty('walletCardRefId');
    expect(tokenItem).not.toHaveProperty('device');
  });

  it('with long realistic values (a 48-character token id, an SEID, an FPANID, a long role and session): both well under 1 KB', async () => {
    const vc = `DNITHE${'0'.repeat(42)}`;
    const requester = `arn:aws:sts::123456789012:assumed-role/${'r'.repeat(40)}/${'s'.repeat(40)}`;
    const current = token('ACTIVE', {
      virtualCardId: vc,
      issuerCardRefId: 'c'.repeat(36),
      walletProviderId: 'GOOGLE_PAY',
      device: { manufacturer: 'Samsung', model: 'SM-S918B', deviceName: "Ana's Galaxy S23" },
      lastOperationOrder: 'c000000000000123',
    });
    const op = { operationId: '0b8e3c1a-1111-8d1c-a333-444455556666', order: 'c000000000000124', requestedBy: requester };
    const decision = applyVirtualCardChange(
      current,
      change({
        virtualCardId: vc,
        issuerCardRefId: 'c'.repeat(36),
        correlationId: op.operationId,
        tokenStorageId: '04'.repeat(24),
        walletCardRefId: `FAPLMC${'1'.repeat(34)}`,
      }),
      op,
    );
    const items = await itemsWritten({ dedupeKey: 'k'.repeat(43), virtualCardId: vc, expectedVersion: 3, token: decision.token, event: decision.event });
    expect(items[0]).toMatchObject({ requestedBy: requester });
    // Not on the token item (its recordedChange): up to ~180 bytes more on every write of our operations' changes.
    expect(items[1]!.recordedChange).not.toHaveProperty('requestedBy');
    for (const item of items) expect(itemBytes(item)).toBeLessThanOrEqual(900);
  });
});
