/**
 * The service's resources and routes as plain data.
 *
 * The CDK constructs (lib/) and the local runner (local/) both read this module, so the table, queues,
 * routes and consumers exist in exactly one hand-kept copy. No AWS or CDK imports here: it must stay cheap to
 * import from a Lambda bundle too (the `$default` handler uses the route table to tell 404 from 405).
 */

export const SERVICE_NAME = 'token-lifecycle';
export const METRICS_NAMESPACE = 'TokenLifecycle';

/** Single-table design: every entity lives under `pk`/`sk`; see README "Data model". */
export const TABLE = {
  /** Physical name used locally; in AWS CloudFormation names it (env `TABLE_NAME`). */
  localName: 'token-lifecycle',
  envVar: 'TABLE_NAME',
  partitionKey: 'pk',
  sortKey: 'sk',
  /** Epoch seconds; DynamoDB TTL deletes expired dedupe records and idempotency keys. */
  ttlAttribute: 'expiresAt',
  globalIndexes: [
    /**
     * Tokens of a card (gsi1pk = CARD#<issuerCardRefId>, gsi1sk = TOKEN#<virtualCardId>) and open operations
     * (gsi1pk = OPEN_OPERATIONS, sparse). It projects only the keys and `issuerCardRefId` (for the open-operations
     * filter), none of which a token or operation write changes: the index is written when an item enters or
     * leaves it, not on every state change (one WRU per callback saved). Readers fetch the items by key.
     */
    { name: 'gsi1', partitionKey: 'gsi1pk', sortKey: 'gsi1sk', projectedAttributes: ['issuerCardRefId'] },
  ],
} as const;

export type QueueKey = 'issuerCallbacks' | 'tokenUpdates' | 'd1Requests';

export interface QueueSpec {
  /** Physical name used locally; CloudFormation names it in AWS. */
  localName: string;
  /** Env var that carries the queue URL to producers. */
  envVar: string;
  /** Receives before SQS moves a message to the DLQ (consumer crashes, not business failures). */
  maxReceiveCount: number;
  /** Longest the consumer Lambda may run on one batch; visibility = 6 x this in AWS (AWS guidance). */
  consumerTimeoutSeconds: number;
}

export const QUEUES: Record<QueueKey, QueueSpec> = {
  issuerCallbacks: { localName: 'issuer-callbacks', envVar: 'ISSUER_CALLBACKS_QUEUE_URL', maxReceiveCount: 5, consumerTimeoutSeconds: 30 },
  tokenUpdates: { localName: 'token-updates', envVar: 'TOKEN_UPDATES_QUEUE_URL', maxReceiveCount: 5, consumerTimeoutSeconds: 30 },
  d1Requests: { localName: 'd1-requests', envVar: 'D1_REQUESTS_QUEUE_URL', maxReceiveCount: 5, consumerTimeoutSeconds: 30 },
};

export const dlqName = (queue: QueueSpec): string => `${queue.localName}-dlq`;

/** The two HTTP APIs of DESIGN §7: the back office's (IAM in AWS) and D1's webhooks (mTLS in AWS). */
export type ApiName = 'backoffice' | 'webhooks';

/** A Lambda entry module: `lambdas/handlers/<name>.ts`, exporting `handler`. */
export type HandlerName =
  | 'health'
  | 'not-found'
  | 'notify-virtual-card-change'
  | 'apply-virtual-card-change'
  | 'token-queries'
  | 'lcm-operations'
  | 'd1-submitter'
  | 'notify-token-update'
  | 'apply-token-update'
  | 'network-token-queries'
  | 'network-token-credentials'
  | 'reconcile'
  | 'reconcile-sweep'
  | 'openapi';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface HttpRoute {
  api: ApiName;
  method: HttpMethod;
  /** API Gateway route path; `{name}` is a path parameter. Case-sensitive. */
  path: string;
  handler: HandlerName;
  /** `iam`: SigV4-authorised in AWS (back-office callers); `none`: the handler authenticates (webhooks, health). */
  auth: 'iam' | 'none';
}

export const HTTP_ROUTES: readonly HttpRoute[] = [
  { api: 'backoffice', method: 'GET', path: '/health', handler: 'health', auth: 'none' },
  { api: 'webhooks', method: 'GET', path: '/health', handler: 'health', auth: 'none' },
  { api: 'backoffice', method: 'GET', path: '/openapi.json', handler: 'openapi', auth: 'iam' },
  { api: 'webhooks', method: 'POST', path: '/issuer/igwapi/v2.0/notifyVirtualCardChange', handler: 'notify-virtual-card-change', auth: 'none' },
  { api: 'backoffice', method: 'GET', path: '/v1/tokens/{virtualCardId}', handler: 'token-queries', auth: 'iam' },
  { api: 'backoffice', method: 'GET', path: '/v1/tokens/{virtualCardId}/history', handler: 'token-queries', auth: 'iam' },
  { api: 'backoffice', method: 'GET', path: '/v1/cards/{issuerCardRefId}/tokens', handler: 'token-queries', auth: 'iam' },
  { api: 'backoffice', method: 'POST', path: '/v1/lcm-operations', handler: 'lcm-operations', auth: 'iam' },
  { api: 'backoffice', method: 'GET', path: '/v1/lcm-operations/{operationId}', handler: 'lcm-operations', auth: 'iam' },
  { api: 'backoffice', method: 'POST', path: '/v1/cards/{issuerCardRefId}/reconcile', handler: 'reconcile', auth: 'iam' },
  { api: 'webhooks', method: 'POST', path: '/tsh-cof/notify-token-update', handler: 'notify-token-update', auth: 'none' },
  { api: 'backoffice', method: 'GET', path: '/v1/network-tokens/{tokenId}', handler: 'network-token-queries', auth: 'iam' },
  { api: 'backoffice', method: 'GET', path: '/v1/network-tokens/{tokenId}/token-pan', handler: 'network-token-credentials', auth: 'iam' },
  { api: 'backoffice', method: 'POST', path: '/v1/network-tokens/{tokenId}/transactions', handler: 'network-token-credentials', auth: 'iam' },
];

/** Answers every request no route matches (API Gateway `$default`): 404, or 405 with `allow`. */
export const FALLBACK_HANDLER: HandlerName = 'not-found';

export interface QueueConsumer {
  queue: QueueKey;
  handler: HandlerName;
  batchSize: number;
  /** SQS event-source `maximumConcurrency` (2..1000): caps parallel consumers, e.g. toward D1. */
  maxConcurrency: number;
}

export const QUEUE_CONSUMERS: readonly QueueConsumer[] = [
  { queue: 'issuerCallbacks', handler: 'apply-virtual-card-change', batchSize: 10, maxConcurrency: 10 },
  // At most 5 × 5 calls in flight toward D1, however many operations are requested at once.
  { queue: 'd1Requests', handler: 'd1-submitter', batchSize: 5, maxConcurrency: 5 },
  { queue: 'tokenUpdates', handler: 'apply-token-update', batchSize: 10, maxConcurrency: 10 },
];

/** Handlers run on a timer: an EventBridge schedule in AWS, setInterval under `npm start`. */
export interface Schedule {
  handler: HandlerName;
  rateMinutes: number;
}

export const SCHEDULES: readonly Schedule[] = [
  // Cheap when idle (one Query on the sparse open-operations index); RECONCILE_AFTER_MS decides what is overdue.
  { handler: 'reconcile-sweep', rateMinutes: 5 },
];

export const routeKey = (route: Pick<HttpRoute, 'method' | 'path'>): string => `${route.method} ${route.path}`;

/** Env vars whose values are secrets: CDK passes `<NAME>_SECRET_ARN` instead, never the value. */
export const SECRET_ENV_KEYS = ['TR_API_KEY', 'D1_COF_API_KEY', 'TR_JWE_PRIVATE_KEY'] as const;
/** Secret-valued variables that may be absent (mTLS toward D1 is set up per environment); wired only when given. */
export const OPTIONAL_SECRET_ENV_KEYS = ['D1_CLIENT_CERT', 'D1_CLIENT_KEY'] as const;
export type SecretEnvKey = (typeof SECRET_ENV_KEYS)[number];
export type OptionalSecretEnvKey = (typeof OPTIONAL_SECRET_ENV_KEYS)[number];

/**
 * What each Lambda needs, as data, so CDK grants least privilege from the same source the code is wired from:
 * the env vars it reads (names from lambdas/config/env.ts), its table access and the queues it sends to.
 */
export interface HandlerNeeds {
  env: readonly string[];
  table: 'none' | 'read' | 'readwrite';
  sendsTo: readonly QueueKey[];
  /** Memory in MB; small handlers are I/O-bound, 256 MB keeps cold starts acceptable on arm64. */
  memoryMb?: number;
}

export const HANDLERS: Record<HandlerName, HandlerNeeds> = {
  health: { env: [], table: 'none', sendsTo: [] },
  openapi: { env: [], table: 'none', sendsTo: [] },
  'not-found': { env: ['API_NAME'], table: 'none', sendsTo: [] },
  'notify-virtual-card-change': { env: ['ISSUER_ID', 'ISSUER_CALLBACKS_QUEUE_URL'], table: 'none', sendsTo: ['issuerCallbacks'] },
  'apply-virtual-card-change': { env: ['TABLE_NAME', 'HISTORY_RETENTION_DAYS'], table: 'readwrite', sendsTo: [] },
  'token-queries': { env: ['TABLE_NAME'], table: 'read', sendsTo: [] },
  'lcm-operations': { env: ['TABLE_NAME', 'D1_REQUESTS_QUEUE_URL'], table: 'readwrite', sendsTo: ['d1Requests'] },
  'd1-submitter': {
    env: ['TABLE_NAME', 'D1_REQUESTS_QUEUE_URL', 'D1_ISSUER_BASE_URL', 'ISSUER_ID', 'D1_TIMEOUT_MS', 'D1_RETRY_BASE_DELAY_MS', 'D1_MAX_ATTEMPTS', 'D1_CLIENT_CERT', 'D1_CLIENT_KEY'],
    table: 'readwrite',
    sendsTo: ['d1Requests'],
  },
  'notify-token-update': { env: ['TR_API_KEY', 'TOKEN_UPDATES_QUEUE_URL'], table: 'none', sendsTo: ['tokenUpdates'] },
  'apply-token-update': { env: ['TABLE_NAME'], table: 'readwrite', sendsTo: [] },
  'network-token-queries': { env: ['TABLE_NAME'], table: 'read', sendsTo: [] },
  'network-token-credentials': {
    // In AWS stored PANs are sealed under the KMS key only: no raw DATA_KEY exists there (it is the local stand-in).
    env: ['TABLE_NAME', 'D1_COF_BASE_URL', 'D1_COF_API_KEY', 'TR_JWE_PRIVATE_KEY', 'DATA_KEY_KMS_KEY_ARN', 'D1_TIMEOUT_MS', 'D1_CLIENT_CERT', 'D1_CLIENT_KEY'],
    table: 'readwrite',
    sendsTo: [],
    memoryMb: 512,
  },
  reconcile: {
    env: ['TABLE_NAME', 'D1_ISSUER_BASE_URL', 'ISSUER_ID', 'D1_TIMEOUT_MS', 'RECONCILE_AFTER_MS', 'HISTORY_RETENTION_DAYS', 'D1_CLIENT_CERT', 'D1_CLIENT_KEY'],
    table: 'readwrite',
    sendsTo: [],
  },
  'reconcile-sweep': {
    env: ['TABLE_NAME', 'D1_ISSUER_BASE_URL', 'ISSUER_ID', 'D1_TIMEOUT_MS', 'RECONCILE_AFTER_MS', 'HISTORY_RETENTION_DAYS', 'D1_CLIENT_CERT', 'D1_CLIENT_KEY'],
    table: 'readwrite',
    sendsTo: [],
  },
};
