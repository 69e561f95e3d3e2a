import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { LocalService } from '../../../local/service';
import { sleep } from './config';

/** What the chaos suites read back: public routes first, the table only where the API has no view (see each). */

export interface HistoryEventView {
  at: string;
  action: string;
  source: string;
  correlationId: string;
  operationId: string | null;
  errorCode: number | null;
  outcome: 'APPLIED' | 'SUPERSEDED' | 'FAILED' | 'IGNORED';
  stateAfter: string | null;
}

export interface TokenView {
  virtualCardId: string;
  issuerCardRefId: string;
  state: string;
  lastAction: string | null;
  lastChangeSource: string | null;
  lastOperationId: string | null;
  renewals: number;
  lastRenewedAt: string | null;
  updatedAt: string;
}

export interface OperationView {
  operationId: string;
  correlationId: string;
  action: string;
  scope: 'TOKEN' | 'CARD';
  issuerCardRefId: string;
  virtualCardId: string | null;
  status: 'PENDING' | 'SUBMITTED' | 'SUCCEEDED' | 'PARTIALLY_FAILED' | 'FAILED';
  submitAttempts: number;
  failure: { reason: string; responseCode?: number; errorCode?: number } | null;
  tokens: Array<{ virtualCardId: string; outcome: string; errorCode?: number; at: string }>;
  createdAt: string;
  updatedAt: string;
}

export async function getJson<T>(url: string): Promise<{ status: number; body: T }> {
  const res = await fetch(url);
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
}

export async function postJson<T>(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: T }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
}

export async function getToken(baseUrl: string, vc: string): Promise<TokenView | null> {
  const { status, body } = await getJson<TokenView>(`${baseUrl}/v1/tokens/${encodeURIComponent(vc)}`);
  if (status === 404) return null;
  if (status !== 200) throw new Error(`GET token ${vc} → ${status} ${JSON.stringify(body)}`);
  return body;
}

/** GET /v1/tokens/{vc}/history, every page (oldest first); null when the API does not know the token (404). */
export async function apiHistory(baseUrl: string, vc: string): Promise<HistoryEventView[] | null> {
  const events: HistoryEventView[] = [];
  let nextToken: string | null = null;
  do {
    const query: string = nextToken ? `?limit=100&nextToken=${encodeURIComponent(nextToken)}` : '?limit=100';
    const { status, body }: { status: number; body: { events: HistoryEventView[]; nextToken: string | null } } = await getJson(
      `${baseUrl}/v1/tokens/${encodeURIComponent(vc)}/history${query}`,
    );
    if (status === 404) return null;
    if (status !== 200) throw new Error(`GET history ${vc} → ${status} ${JSON.stringify(body)}`);
    events.push(...body.events);
    nextToken = body.nextToken;
  } while (nextToken);
  return events;
}

/**
 * The token's event items straight from the table, in history order (the LSI the history route reads). Used where
 * the API answers 404 — callbacks recorded about a token we never learnt (failed or unknown-action ones) — and to
 * poll cheaply while a scenario settles.
 */
export async function tableHistory(ddb: DynamoDBDocumentClient, tableName: string, vc: string): Promise<HistoryEventView[]> {
  const events: Array<{ order: string; view: HistoryEventView }> = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await ddb.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :evt)',
        ExpressionAttributeValues: { ':pk': `TOKEN#${vc}`, ':evt': 'EVT#' },
        ConsistentRead: true,
        ExclusiveStartKey: start,
      }),
    );
    for (const item of page.Items ?? []) {
      events.push({
        order: `${item.seq}|${item.sk}`,
        view: {
          at: item.at,
          action: item.action,
          source: item.source,
          correlationId: item.correlationId,
          operationId: item.operationId ?? null,
          errorCode: item.errorCode ?? null,
          outcome: item.outcome,
          stateAfter: item.stateAfter ?? null,
        },
      });
    }
    start = page.LastEvaluatedKey;
  } while (start);
  // Application order: the `seq` attribute (token version), as the history route sorts.
  return events.sort((a, b) => (a.order < b.order ? -1 : 1)).map((e) => e.view);
}

export async function queueDepth(sqs: SQSClient, queueUrl: string): Promise<number> {
  const { Attributes: a = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'],
    }),
  );
  return Number(a.ApproximateNumberOfMessages ?? 0) + Number(a.ApproximateNumberOfMessagesNotVisible ?? 0) + Number(a.ApproximateNumberOfMessagesDelayed ?? 0);
}

export interface QuiesceOptions {
  service: LocalService;
  sqs: SQSClient;
  queueUrls: string[];
  /** Resolves when the simulator has no delivery pending (optional). */
  simIdle?: () => Promise<void>;
  /** Extra condition, e.g. "no operation of this batch is PENDING". */
  settled?: () => Promise<boolean>;
  timeoutMs: number;
}

/**
 * Waits until nothing can happen any more: queues empty (visible, in flight and delayed), no poller holding a
 * message, the simulator idle and `settled()` true — twice in a row, 150 ms apart. Throws with what is still busy.
 */
export async function quiesce(options: QuiesceOptions): Promise<number> {
  const started = Date.now();
  const deadline = started + options.timeoutMs;
  let quiet = 0;
  let last = '';
  while (quiet < 2) {
    if (Date.now() > deadline) throw new Error(`not quiescent within ${options.timeoutMs} ms: ${last}`);
    if (options.simIdle) {
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), Math.max(0, deadline - Date.now()));
      });
      const idle = await Promise.race([options.simIdle().then(() => true), timedOut]);
      clearTimeout(timer);
      if (!idle) {
        last = 'simulator still delivering';
        continue;
      }
    }
    const depths = await Promise.all(options.queueUrls.map((url) => queueDepth(options.sqs, url)));
    const busy = options.service.pollers.reduce((n, p) => n + p.inFlight, 0);
    const settled = options.settled ? await options.settled() : true;
    last = `queue depths ${JSON.stringify(depths)}, ${busy} message(s) in consumers, settled=${settled}`;
    if (depths.every((d) => d === 0) && busy === 0 && settled) quiet++;
    else quiet = 0;
    await sleep(quiet > 0 ? 150 : 100);
  }
  return Date.now() - started;
}
