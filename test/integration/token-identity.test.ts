import { GetCommand, QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoDbTokenStore } from '../../lambdas/adapters/dynamodb-token-store';
import type { HttpEvent, HttpHandler } from '../../lambdas/http/route';
import { lambdaContext } from '../../local/lambda-context';
import type { ErrorBody, HistoryEvent, Operation, Token } from '../support/contract-types';
import { ids } from '../support/ids';
import { httpEvent } from '../support/events';
import { issuerRoutes } from '../support/routes';
import { useStackWithSimulator } from '../support/simulator';
import { TEST_ENV } from '../support/stack';

/**
 * Who asked and where a token lives, on the real local stack (DynamoDB Local, fauxqs, the D1 simulator):
 *
 * - history events of our operations carry the operation's `requestedBy`, from API Gateway's IAM authorizer
 *   context (a Cognito identity first) — the lcm-operations handler module is invoked with a signed-looking request
 *   context, as API Gateway would; the rest (queue, D1, callbacks, apply) runs for real;
 * - the token keeps `tokenStorageId` and `walletCardRefId` from callbacks and the device from `getCardInfo`, without
 *   the IMEI, phone number or serial number the simulator's deviceInformation also carries (the raw item is read);
 * - console agents (CONSOLE_AGENT_ROLE_NAME) may not DELETE: 403, nothing written, nothing sent to D1.
 */

const AGENT_ROLE = 'token-console-agents';
const ACCOUNT = '123456789012';
const agentArn = `arn:aws:sts::${ACCOUNT}:assumed-role/${AGENT_ROLE}/CognitoIdentityCredentials`;
const supervisorArn = `arn:aws:sts::${ACCOUNT}:assumed-role/token-console-supervisors/CognitoIdentityCredentials`;
const IDENTITY = 'eu-west-1:0b8e3c1a-5d2f-4c7a-9e61-2f0a1b2c3d4e';

const { d1, stack } = useStackWithSimulator({
  d1BaseUrlEnv: 'D1_ISSUER_BASE_URL',
  env: { CONSOLE_AGENT_ROLE_NAME: AGENT_ROLE, D1_RETRY_BASE_DELAY_MS: '200', D1_MAX_ATTEMPTS: '3', D1_TIMEOUT_MS: '500' },
});
const { getJson, getToken, tokenWhen, history, operationWhen } = issuerRoutes(() => stack.url);

const tableName = (): string => stack.resources.env.TABLE_NAME!;
const tokenItem = async (vc: string) => (await stack.ddb.send(new GetCommand({ TableName: tableName(), Key: { pk: `TOKEN#${vc}`, sk: 'TOKEN' } }))).Item;
const eventItems = async (vc: string) =>
  (
    await stack.ddb.send(
      new QueryCommand({
        TableName: tableName(),
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :evt)',
        ExpressionAttributeValues: { ':pk': `TOKEN#${vc}`, ':evt': 'EVT#' },
        ConsistentRead: true,
      }),
    )
  ).Items ?? [];
const itemCount = async (): Promise<number> => {
  let count = 0;
  let start: Record<string, unknown> | undefined;
  do {
    const page = await stack.ddb.send(new ScanCommand({ TableName: tableName(), Select: 'COUNT', ConsistentRead: true, ExclusiveStartKey: start }));
    count += page.Count ?? 0;
    start = page.LastEvaluatedKey;
  } while (start);
  return count;
};

/** A POST as API Gateway hands it to the handler module after IAM authorised the signed request. */
function signed(
  path: string,
  body: unknown,
  iam: { userArn: string; cognitoIdentity?: { identityId: string } | null },
  route: { routeKey: string; pathParameters: Record<string, string> } = { routeKey: `POST ${path}`, pathParameters: {} },
): HttpEvent {
  const event = httpEvent({
    method: 'POST',
    path,
    routeKey: route.routeKey,
    pathParameters: route.pathParameters,
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const requestContext = {
    ...event.requestContext,
    authorizer: {
      iam: {
        accessKey: 'ASIAEXAMPLE',
        accountId: ACCOUNT,
        callerId: 'AROAEXAMPLE:CognitoIdentityCredentials',
        principalOrgId: null,
        userId: 'AROAEXAMPLE:CognitoIdentityCredentials',
        userArn: iam.userArn,
        cognitoIdentity:
          iam.cognitoIdentity === undefined
            ? null
            : iam.cognitoIdentity && { amr: ['authenticated'], identityId: iam.cognitoIdentity.identityId, identityPoolId: 'eu-west-1:pool' },
      },
    },
  };
  return { ...event, requestContext } as HttpEvent;
}

async function invoke(name: 'lcm-operations' | 'lcm-jobs', event: HttpEvent): Promise<{ status: number; body: unknown }> {
  // Loaded once the stack has set the env (a handler module reads it at its first invocation), like a cold start.
  const { handler } = (await import(`../../lambdas/handlers/${name}`)) as { handler: HttpHandler };
  const result = (await handler(event, lambdaContext(name))) as { statusCode: number; body?: string };
  return { status: result.statusCode, body: result.body ? JSON.parse(result.body) : undefined };
}

describe('requestedBy on the history events of our operations', () => {
  it('a Cognito-signed SUSPEND: the operation and its history event say cognito:<identityId>; the wallet’s events say null', async () => {
    const { card, vc } = ids('who');
    await d1.seedCard(card, [vc]);
    const res = await invoke(
      'lcm-operations',
      signed(
        '/v1/lcm-operations',
        { action: 'SUSPEND', issuerCardRefId: card, virtualCardId: vc },
        { userArn: agentArn, cognitoIdentity: { identityId: IDENTITY } },
      ),
    );
    expect(res.status).toBe(202);
    const op = res.body as Operation;
    expect(op.requestedBy).toBe(`cognito:${IDENTITY}`);
    expect((await operationWhen(op.operationId, (o) => o.status === 'SUCCEEDED')).status).toBe('SUCCEEDED');

    // Then the cardholder resumes it in the wallet: not ours, nobody of ours asked.
    await d1.simCallback({ issuerCardRefId: card, virtualCardId: vc, action: 'RESUME', source: 'WALLET' });
    await tokenWhen(vc, (t) => t.lastAction === 'RESUME');

    const events = await history(vc);
    expect(events.map((e: HistoryEvent) => [e.action, e.source, e.operationId, e.requestedBy])).toEqual([
      ['ACTIVATE', 'WALLET', null, null],
      ['SUSPEND', 'ISSUER', op.operationId, `cognito:${IDENTITY}`],
      ['RESUME', 'WALLET', null, null],
    ]);
    // Stored on the event item only when there is one (no null attribute on the others).
    const items = await eventItems(vc);
    expect(items.filter((i) => 'requestedBy' in i).map((i) => [i.action, i.requestedBy])).toEqual([['SUSPEND', `cognito:${IDENTITY}`]]);
    expect((await tokenItem(vc))!.recordedChange).not.toHaveProperty('requestedBy');
  });

  it('signed without a Cognito identity: the caller’s ARN, on a FAILED callback’s event too', async () => {
    const { card, vc } = ids('arn');
    await d1.seedCard(card, [vc]);
    await d1.setFaults({ callbacks: { errorCode: 221, times: 1 } });
    const res = await invoke(
      'lcm-operations',
      signed('/v1/lcm-operations', { action: 'SUSPEND', issuerCardRefId: card, virtualCardId: vc }, { userArn: supervisorArn }),
    );
    expect(res.status).toBe(202);
    const op = res.body as Operation;
    expect(op.requestedBy).toBe(supervisorArn);
    expect((await operationWhen(op.operationId, (o) => o.status === 'FAILED')).status).toBe('FAILED');
    const failed = (await history(vc)).find((e) => e.operationId === op.operationId);
    expect(failed).toMatchObject({ outcome: 'FAILED', errorCode: 221, requestedBy: supervisorArn });
  });

  it('locally (no IAM context) requestedBy is null on the operation and on its events', async () => {
    const { card, vc } = ids('local');
    await d1.seedCard(card, [vc]);
    const res = await fetch(`${stack.url}/v1/lcm-operations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ action: 'SUSPEND', issuerCardRefId: card, virtualCardId: vc }),
    });
    const op = (await res.json()) as Operation;
    expect(op.requestedBy).toBeNull();
    await operationWhen(op.operationId, (o) => o.status === 'SUCCEEDED');
    expect((await history(vc)).every((e) => e.requestedBy === null)).toBe(true);
  });
});

describe('where a token lives: tokenStorageId, walletCardRefId and the device', () => {
  it('the wallet ids come from the last applied callback that carries them, on both token routes', async () => {
    const { card, vc } = ids('wallet');
    await d1.simCall('POST', '/_sim/cards', { issuerCardRefId: card, tokens: [{ virtualCardId: vc }] });
    await d1.simCallback({
      issuerCardRefId: card,
      virtualCardId: vc,
      action: 'ACTIVATE',
      source: 'WALLET',
      tokenStorageId: 'se-04a1',
      walletCardRefId: 'FAPLMC001',
    });
    const token = await tokenWhen(vc, (t) => t.state === 'ACTIVE');
    expect(token).toMatchObject({ tokenStorageId: 'se-04a1', walletCardRefId: 'FAPLMC001', device: null });

    // One without them keeps them; a failed one with other values changes nothing; the next applied one replaces.
    await d1.simCallback({ issuerCardRefId: card, virtualCardId: vc, action: 'SUSPEND', source: 'WALLET' });
    await tokenWhen(vc, (t) => t.state === 'SUSPENDED');
    await d1.simCallback({ issuerCardRefId: card, virtualCardId: vc, action: 'RESUME', source: 'WALLET', errorCode: 221, tokenStorageId: 'se-failed' });
    await d1.quiet();
    expect(await getToken(vc)).toMatchObject({ state: 'SUSPENDED', tokenStorageId: 'se-04a1', walletCardRefId: 'FAPLMC001' });
    await d1.simCallback({ issuerCardRefId: card, virtualCardId: vc, action: 'RESUME', source: 'WALLET', tokenStorageId: 'se-07ff' });
    await tokenWhen(vc, (t) => t.state === 'ACTIVE');

    const { body } = await getJson<{ tokens: Token[] }>(`/v1/cards/${encodeURIComponent(card)}/tokens`);
    expect(body.tokens).toEqual([expect.objectContaining({ virtualCardId: vc, tokenStorageId: 'se-07ff', walletCardRefId: 'FAPLMC001', device: null })]);
    expect(await tokenItem(vc)).toMatchObject({ tokenStorageId: 'se-07ff', walletCardRefId: 'FAPLMC001' });
    expect(await tokenItem(vc)).not.toHaveProperty('device');
  });

  it('reconciliation stores manufacturer, model and name from getCardInfo — never the IMEI, phone number or serial', async () => {
    const { card, vc } = ids('device');
    const other = `${vc}-d1-only`;
    const longName = `Ana's phone ${'x'.repeat(80)}`;
    await d1.simCall('POST', '/_sim/cards', {
      issuerCardRefId: card,
      tokens: [
        { virtualCardId: vc, walletProviderId: 'APPLE_PAY', device: { deviceName: longName } },
        { virtualCardId: other, walletProviderId: 'GOOGLE_PAY', status: 'SUSPENDED' },
      ],
    });
    await d1.simCallback({ issuerCardRefId: card, virtualCardId: vc, action: 'ACTIVATE', source: 'WALLET', tokenStorageId: 'se-1' });
    const learnt = await tokenWhen(vc, (t) => t.state === 'ACTIVE');
    expect(learnt.device).toBeNull();

    // What D1 answers (the simulator plays a real phone's deviceInformation): identifiers included.
    const answer = await fetch(`${d1.sim.url}/getCardInfo`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-correlation-id': 'probe', 'x-issuer-id': TEST_ENV.ISSUER_ID },
      body: JSON.stringify({ issuerCardRefId: card }),
    });
    const listed = ((await answer.json()) as { virtualCardList: { deviceInformation: Record<string, string> }[] }).virtualCardList;
    expect(listed.map((c) => Object.keys(c.deviceInformation).sort())).toEqual(
      Array(2).fill(['deviceId', 'deviceName', 'deviceType', 'imei', 'manufacturer', 'model', 'msisdn', 'serialNumber']),
    );

    const res = await fetch(`${stack.url}/v1/cards/${encodeURIComponent(card)}/reconcile`, { method: 'POST' });
    expect(res.status).toBe(200);
    const reconciled = await res.text();

    // In sync (no state drift): the device is refreshed without a history event; the D1-only token is created with it.
    const token = await getToken(vc);
    expect(token).toMatchObject({
      state: 'ACTIVE',
      tokenStorageId: 'se-1',
      device: { manufacturer: 'Apple', model: 'iPhone 15', deviceName: longName.slice(0, 64) },
    });
    expect((await history(vc)).map((e) => e.action)).toEqual(['ACTIVATE']);
    expect(await getToken(other)).toMatchObject({
      state: 'SUSPENDED',
      lastAction: 'RECONCILE',
      device: { manufacturer: 'Google', model: 'Pixel 8', deviceName: 'Simulated phone' },
    });

    // The raw items hold the three fields and nothing else of deviceInformation; neither they nor the answer hold
    // the identifiers the simulator sent.
    const [ourItem, otherItem] = [await tokenItem(vc), await tokenItem(other)];
    for (const item of [ourItem!, otherItem!]) expect(Object.keys(item.device as object).sort()).toEqual(['deviceName', 'manufacturer', 'model']);
    const stored = JSON.stringify([ourItem, otherItem, await eventItems(vc), await eventItems(other), reconciled]);
    expect(stored).not.toMatch(/imei|msisdn|serial|deviceId|sim-device|\+4915|"35\d{13}"/i);

    // A callback keeps the device; the next reconciliation with the same device writes nothing.
    await d1.simCallback({ issuerCardRefId: card, virtualCardId: vc, action: 'SUSPEND', source: 'WALLET' });
    await tokenWhen(vc, (t) => t.state === 'SUSPENDED');
    expect((await getToken(vc)).device).toEqual(token.device);
    const version = (await tokenItem(vc))!.version;
    await fetch(`${stack.url}/v1/cards/${encodeURIComponent(card)}/reconcile`, { method: 'POST' });
    expect((await tokenItem(vc))!.version).toBe(version);

    // A device update decided on an older version loses (a callback landed meanwhile): nothing written.
    const store = new DynamoDbTokenStore(stack.ddb, { tableName: tableName() });
    const stale = { virtualCardId: vc, expectedVersion: (version as number) - 1, device: { manufacturer: 'X', model: 'Y', deviceName: 'Z' } };
    expect(await store.recordDevice(stale)).toBe('CONFLICT');
    expect((await getToken(vc)).device).toEqual(token.device);
  });
});

describe('console agents may not DELETE (CONSOLE_AGENT_ROLE_NAME)', () => {
  const forbidden = (res: { status: number; body: unknown }) => {
    expect(res.status).toBe(403);
    expect((res.body as ErrorBody).error).toEqual({ code: 'FORBIDDEN', message: expect.any(String) });
  };

  it('an agent’s DELETE of a token, a card or a bulk job: 403, nothing written, nothing sent to D1', async () => {
    const { card, vc, key } = ids('agent');
    await d1.seedCard(card, [vc]);
    await d1.quiet();
    const before = await itemCount();
    const asAgent = { userArn: agentArn, cognitoIdentity: { identityId: IDENTITY } };

    forbidden(await invoke('lcm-operations', signed('/v1/lcm-operations', { action: 'DELETE', issuerCardRefId: card, virtualCardId: vc }, asAgent)));
    forbidden(
      await invoke(
        'lcm-operations',
        signed('/v1/lcm-operations', { action: 'DELETE', issuerCardRefId: card }, { userArn: `arn:aws:iam::${ACCOUNT}:role/${AGENT_ROLE}` }),
      ),
    );
    const withKey = signed('/v1/lcm-operations', { action: 'DELETE', issuerCardRefId: card, virtualCardId: vc }, asAgent);
    forbidden(await invoke('lcm-operations', { ...withKey, headers: { ...withKey.headers, 'idempotency-key': key } }));
    forbidden(await invoke('lcm-jobs', signed('/v1/lcm-jobs', { action: 'DELETE', issuerCardRefIds: [card] }, asAgent)));

    await d1.quiet();
    expect(await itemCount()).toBe(before);
    expect(await d1.cardRequests('/updateCardState', card)).toEqual([]);
    expect((await getToken(vc)).state).toBe('ACTIVE');
  });

  it('an agent may neither add cards to nor start a supervisor’s DELETE job, but may cancel it', async () => {
    const { card } = ids('job');
    const created = await invoke('lcm-jobs', signed('/v1/lcm-jobs', { action: 'DELETE', issuerCardRefIds: [card] }, { userArn: supervisorArn }));
    expect(created.status).toBe(202);
    const { jobId } = created.body as { jobId: string };
    const onJob = (verb: 'cards' | 'start' | 'cancel') => ({ routeKey: `POST /v1/lcm-jobs/{jobId}/${verb}`, pathParameters: { jobId } });
    const before = await itemCount();
    forbidden(await invoke('lcm-jobs', signed(`/v1/lcm-jobs/${jobId}/cards`, { issuerCardRefIds: [`${card}-more`] }, { userArn: agentArn }, onJob('cards'))));
    forbidden(await invoke('lcm-jobs', signed(`/v1/lcm-jobs/${jobId}/start`, undefined, { userArn: agentArn }, onJob('start'))));
    expect(await itemCount()).toBe(before);
    const job = await getJson<{ status: string; counts: { cards: number } }>(`/v1/lcm-jobs/${jobId}`);
    expect(job.body).toMatchObject({ status: 'PENDING', counts: { cards: 1 } });
    const cancelled = await invoke('lcm-jobs', signed(`/v1/lcm-jobs/${jobId}/cancel`, undefined, { userArn: agentArn }, onJob('cancel')));
    expect(cancelled).toMatchObject({ status: 200, body: { status: 'CANCELLED' } });
  });

  it('an agent may SUSPEND; a supervisor may DELETE', async () => {
    const { card, vc } = ids('roles');
    await d1.seedCard(card, [vc]);
    const suspend = await invoke(
      'lcm-operations',
      signed('/v1/lcm-operations', { action: 'SUSPEND', issuerCardRefId: card, virtualCardId: vc }, { userArn: agentArn }),
    );
    expect(suspend.status).toBe(202);
    await operationWhen((suspend.body as Operation).operationId, (o) => o.status === 'SUCCEEDED');
    const job = await invoke('lcm-jobs', signed('/v1/lcm-jobs', { action: 'SUSPEND', issuerCardRefIds: [card] }, { userArn: agentArn }));
    expect(job.status).toBe(202);
    const { jobId } = job.body as { jobId: string };
    const more = await invoke(
      'lcm-jobs',
      signed(
        `/v1/lcm-jobs/${jobId}/cards`,
        { issuerCardRefIds: [`${card}-more`] },
        { userArn: agentArn },
        { routeKey: 'POST /v1/lcm-jobs/{jobId}/cards', pathParameters: { jobId } },
      ),
    );
    expect(more).toMatchObject({ status: 200, body: { counts: { cards: 2 } } });
    const remove = await invoke(
      'lcm-operations',
      signed('/v1/lcm-operations', { action: 'DELETE', issuerCardRefId: card, virtualCardId: vc }, { userArn: supervisorArn }),
    );
    expect(remove.status).toBe(202);
    expect((await operationWhen((remove.body as Operation).operationId, (o) => o.status === 'SUCCEEDED')).requestedBy).toBe(supervisorArn);
    expect((await getToken(vc)).state).toBe('DELETED');
  });
});
