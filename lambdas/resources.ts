/**
 * The service's resources as plain constants: names, the table's keys and indexes, the queues. Runtime modules
 * import this (cheap: no schemas); lambdas/topology.ts adds the handler specs for CDK, the local runner and the
 * OpenAPI document.
 */

export const SERVICE_NAME = 'token-lifecycle';
export const METRICS_NAMESPACE = 'TokenLifecycle';

/** Single-table design: every entity lives under `pk`/`sk`; see docs/architecture.md "Data model". */
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
     * Tokens of a card (gsi1pk = CARD#<issuerCardRefId>, gsi1sk = TOKEN#<virtualCardId>), open operations
     * (gsi1pk = OPEN_OPERATIONS, sparse) and a bulk job's cards by status (gsi1pk = JOBCARDS#<jobId>#<status>,
     * gsi1sk = <issuerCardRefId>: the job runner finds QUEUED cards without reading the started ones). It projects
     * only the keys and `issuerCardRefId` (for the open-operations filter), none of which a token or operation
     * write changes: the index is written when an item enters or leaves it, not on every state change (one WRU per
     * callback saved). Readers fetch the items by key.
     */
    { name: 'gsi1', partitionKey: 'gsi1pk', sortKey: 'gsi1sk', projectedAttributes: ['issuerCardRefId'] },
    /**
     * The event log in append order (gsi2pk = EVENTLOG#<yyyy-mm-dd>, gsi2sk = <appendedAt>#<eventId>), sparse: only
     * event-log items carry its keys, and they are written once, so it projects everything `GET /v1/events` returns.
     */
    { name: 'gsi2', partitionKey: 'gsi2pk', sortKey: 'gsi2sk', projectedAttributes: 'ALL' },
  ],
  /**
   * The change stream events are published from (DESIGN §8): old and new images, so the publisher sees what a
   * write changed without reading anything. DynamoDB Streams in AWS, DynamoDB Local's own stream under npm start.
   */
  streamView: 'NEW_AND_OLD_IMAGES',
} as const;

export type TableIndex = (typeof TABLE.globalIndexes)[number];

export type QueueKey = 'issuerCallbacks' | 'tokenUpdates' | 'd1Requests' | 'd1BulkRequests' | 'webhookDeliveries' | 'lcmJobs';

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
  /** Bulk-job operations: the same submitter, the bulk lane of the D1 pace (interactive d1-requests go first). */
  d1BulkRequests: { localName: 'd1-bulk-requests', envVar: 'D1_BULK_REQUESTS_QUEUE_URL', maxReceiveCount: 5, consumerTimeoutSeconds: 30 },
  /** One message per (event, subscription) attempt; a failed delivery is a new delayed message, not a redelivery. */
  webhookDeliveries: { localName: 'webhook-deliveries', envVar: 'WEBHOOK_DELIVERIES_QUEUE_URL', maxReceiveCount: 5, consumerTimeoutSeconds: 30 },
  /** The bulk jobs' ticks (DESIGN §9): one message per generation of a RUNNING job, claimed on the job item. */
  lcmJobs: { localName: 'lcm-jobs', envVar: 'LCM_JOBS_QUEUE_URL', maxReceiveCount: 5, consumerTimeoutSeconds: 30 },
};

export const dlqName = (queue: QueueSpec): string => `${queue.localName}-dlq`;

/** The two HTTP APIs of DESIGN §7: the back office's (IAM in AWS) and D1's webhooks (mTLS in AWS). */
export type ApiName = 'backoffice' | 'webhooks';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** API Gateway's route key (`GET /v1/tokens/{virtualCardId}`), which a multi-route Lambda dispatches on. */
export const routeKey = (route: { method: HttpMethod; path: string }): string => `${route.method} ${route.path}`;
