import { type CfnResource, Duration, Stack, Validations } from 'aws-cdk-lib';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import type { IEventBus } from 'aws-cdk-lib/aws-events';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { FilterCriteria, FilterRule, StartingPosition } from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq, SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { EnvKey } from '../../lambdas/config/env';
import {
  OPTIONAL_SECRET_ENV_KEYS,
  QUEUES,
  SECRET_ENV_KEYS,
  SERVICE_NAME,
  TABLE,
  type ApiName,
  consumerConcurrency,
  type HandlerName,
  type QueueConsumer,
  type QueueKey,
  type OptionalSecretEnvKey,
  type Schedule,
  type SecretEnvKey,
  type TableStreamConsumer,
} from '../../lambdas/topology';
import type { StackConfig } from '../config';
import { API_NAMES, type Topology } from '../topology';
import { EVENT_BUS_ENV_VAR } from './event-bus';
import { KEY_ENV_VARS, KEY_USER_ACTIONS, type KeyEnvVar } from './keys';
import { pascal } from './naming';
import { dlqEnvVar, type QueuePair } from './queues';
import type { ServiceSecret } from './secrets';
import { ServiceFunction } from './service-function';

/** Small handlers are I/O-bound; 256 MB keeps arm64 cold starts acceptable (topology may override). */
const DEFAULT_MEMORY_MB = 256;

/**
 * A table-stream consumer's timeout: the same 30 s as the queue consumers (QUEUES[…].consumerTimeoutSeconds). A batch
 * is at most `batchSize` records, each a few writes (event log, bus, delivery queue); no visibility timeout to match.
 */
export const STREAM_CONSUMER_TIMEOUT_SECONDS = 30;

/** DynamoDB Streams: no more than two processes should read a shard at once (AWS guidance); each consumer is one. */
const MAX_TABLE_STREAM_CONSUMERS = 2;

/**
 * The items whose changes publish events (DESIGN §8): tokens, LCM operations, network tokens (`entity`, set on every
 * write of those items), inserted or modified. Everything else is filtered out before Lambda is invoked (no cost):
 * the event-log and subscription items, which the publisher and the subscription routes write themselves (the
 * publisher would otherwise be invoked by its own writes), callback events (the token item carries what its write
 * recorded), idempotency keys and counters. Removals publish nothing: the service deletes no item itself (a deleted
 * token is a state), and TTL only removes history, dedupe records and expired log entries.
 */
export const PUBLISHED_ENTITIES = ['TOKEN', 'OPERATION', 'NETWORK_TOKEN'] as const;
const PUBLISHED_CHANGES = FilterCriteria.filter({
  eventName: FilterRule.or('INSERT', 'MODIFY'),
  dynamodb: { NewImage: { entity: { S: FilterRule.or(...PUBLISHED_ENTITIES) } } },
});

/**
 * One Lambda to create. A handler that reads `API_NAME` (the `$default` fallback) gets one function per API it
 * serves, because a function has one environment and the fallback must know which API's routes to answer 405
 * for; every other handler is one function shared by all its routes, queues and schedules.
 */
export interface FunctionPlan {
  id: string;
  handler: HandlerName;
  api?: ApiName;
  /** Serves at least one route or a `$default`. */
  http: boolean;
  consumes: QueueConsumer[];
  /** Invoked by the table's change stream (one event source mapping). */
  tableStream?: TableStreamConsumer;
  /** Run by these EventBridge schedules (lib/constructs/schedules.ts). */
  schedules: Schedule[];
}

const keyOf = (handler: HandlerName, api: ApiName | undefined) => (api ? `${handler}@${api}` : handler);

type Trigger = 'http' | { consumer: QueueConsumer } | { stream: TableStreamConsumer } | { schedule: Schedule };

/** Only handlers some route, the fallback, a queue or stream consumer or a schedule references become functions. */
export function planFunctions(topology: Topology): FunctionPlan[] {
  if (topology.tableStreamConsumers.length > MAX_TABLE_STREAM_CONSUMERS) {
    throw new Error(
      `at most ${MAX_TABLE_STREAM_CONSUMERS} table-stream consumers (DynamoDB Streams readers per shard), got ${topology.tableStreamConsumers.length}`,
    );
  }
  const plans = new Map<string, FunctionPlan>();
  const use = (handler: HandlerName, api: ApiName | undefined, trigger: Trigger) => {
    const scopedApi = topology.handlers[handler].env.includes('API_NAME') ? api : undefined;
    const key = keyOf(handler, scopedApi);
    const plan = plans.get(key) ?? { id: pascal(key), handler, api: scopedApi, http: false, consumes: [], schedules: [] };
    if (trigger === 'http') plan.http = true;
    else if ('consumer' in trigger) plan.consumes.push(trigger.consumer);
    else if ('stream' in trigger) {
      if (plan.tableStream) throw new Error(`Lambda ${handler}: consumes the table's stream twice`);
      plan.tableStream = trigger.stream;
    } else plan.schedules.push(trigger.schedule);
    plans.set(key, plan);
  };
  for (const route of topology.httpRoutes) use(route.handler, route.api, 'http');
  for (const api of API_NAMES) use(topology.fallbackHandler, api, 'http');
  for (const consumer of topology.queueConsumers) use(consumer.handler, undefined, { consumer });
  for (const stream of topology.tableStreamConsumers) use(stream.handler, undefined, { stream });
  for (const schedule of topology.schedules) use(schedule.handler, undefined, { schedule });
  return [...plans.values()];
}

export interface FunctionsProps {
  config: StackConfig;
  topology: Topology;
  table: ITableV2;
  queues: Record<QueueKey, QueuePair>;
  /** The on-failure destination of each table-stream consumer, by handler (lib/constructs/queues.ts). */
  streamFailures: Partial<Record<HandlerName, IQueue>>;
  /** The stack's EventBridge bus (lib/constructs/event-bus.ts): its name to EVENT_BUS_NAME readers. */
  eventBus: IEventBus;
  secrets: Record<SecretEnvKey, ServiceSecret>;
  /** Optional secrets that are configured; an absent one gives its readers neither env var nor grant. */
  optionalSecrets: Partial<Record<OptionalSecretEnvKey, ServiceSecret>>;
  /** Customer-managed KMS keys by the env var that carries their ARN (lib/constructs/keys.ts). */
  keys: Record<KeyEnvVar, IKey>;
}

/**
 * Plain values from the stack configuration, by the env var name the Lambda code reads (lambdas/config/env.ts).
 * A key mapped to undefined is optional and unset: the variable is left out, the code applies its default.
 */
function configEnv(config: StackConfig): Partial<Record<EnvKey, string | undefined>> {
  return {
    ISSUER_ID: config.issuerId,
    D1_ISSUER_BASE_URL: config.d1IssuerBaseUrl,
    D1_COF_BASE_URL: config.d1CofBaseUrl,
    D1_TIMEOUT_MS: String(config.d1TimeoutMs),
    D1_RETRY_BASE_DELAY_MS: String(config.d1RetryBaseDelayMs),
    D1_MAX_ATTEMPTS: String(config.d1MaxAttempts),
    D1_MAX_TPS: String(config.d1MaxTps),
    RECONCILE_AFTER_MS: String(config.reconcileAfterMs),
    HISTORY_RETENTION_DAYS: config.historyRetentionDays === undefined ? undefined : String(config.historyRetentionDays),
    EVENT_RETENTION_DAYS: String(config.eventRetentionDays),
    // Set by the Console construct (the agents group's role name) when the console is deployed; else unset.
    CONSOLE_AGENT_ROLE_NAME: undefined,
    // Never set in AWS: it lets webhook URLs be http:// to loopback for npm start's event sink; left out, the code
    // keeps its default (false) and refuses loopback, private, link-local and metadata addresses.
    WEBHOOK_ALLOW_LOOPBACK: undefined,
    // Never set in AWS: stored token PANs are sealed with the stack's KMS key; the raw key is the local stand-in.
    DATA_KEY: undefined,
  };
}

/** Table data access, plus the acknowledgment of the one wildcard it implies, next to the grant. */
function grantTable(table: ITableV2, fn: ServiceFunction, access: 'read' | 'readwrite'): void {
  if (access === 'read') table.grantReadData(fn);
  else table.grantReadWriteData(fn);
  if (!fn.role) return;
  const stack = Stack.of(table);
  const tableLogicalId = stack.resolve((table.node.defaultChild as CfnResource).logicalId) as string;
  Validations.of(fn.role).acknowledge({
    id: `AwsSolutions-IAM5[Resource::<${tableLogicalId}.Arn>/index/*]`,
    reason:
      `Query on this table's own secondary indexes (${TABLE.globalIndexes.map((i) => i.name).join(', ')}) ` +
      'needs their index ARNs; the wildcard is confined to <this table ARN>/index/* (no other table, no table-level action).',
  });
}

/**
 * An HTTP Lambda may call D1 inline (the first `updateCardState` attempt) and must still answer inside API
 * Gateway's 30 s integration limit: D1 timeout plus 5 s for our own work, capped at 29 s.
 */
export const httpTimeoutSeconds = (config: StackConfig): number => Math.min(29, Math.ceil(config.d1TimeoutMs / 1000) + 5);

/**
 * A scheduled run may take up to its whole interval (a sweep calls D1 once per overdue card, one after the
 * other), so a slow run is not cut short while the next tick has not come yet; Lambda's 15-minute cap applies.
 */
export const scheduledTimeoutSeconds = (schedule: Pick<Schedule, 'rateMinutes'>): number => Math.min(900, schedule.rateMinutes * 60);

/**
 * The service's Lambdas, built from the topology data: env vars, grants and event sources all come from
 * `HANDLERS[name]`, so adding a route, consumer (queue or table stream) or schedule entry is the only change needed to
 * ship a new function.
 */
export class Functions extends Construct {
  readonly plans: readonly FunctionPlan[];
  private readonly byKey = new Map<string, ServiceFunction>();

  constructor(scope: Construct, id: string, props: FunctionsProps) {
    super(scope, id);
    const { config, topology, table, queues, streamFailures, eventBus, secrets, optionalSecrets, keys } = props;
    const fromConfig = configEnv(config);
    this.plans = planFunctions(topology);

    for (const plan of this.plans) {
      const needs = topology.handlers[plan.handler];
      const fail = (why: string): never => {
        throw new Error(`Lambda ${plan.handler}${plan.api ? ` (${plan.api} API)` : ''}: ${why}`);
      };

      // Each declared variable comes from the resource or setting it names; an unknown one stops synth here
      // rather than the function at its first cold start.
      const environment: Record<string, string> = { LOG_LEVEL: config.logLevel, POWERTOOLS_SERVICE_NAME: SERVICE_NAME };
      const secretsRead: ServiceSecret[] = [];
      const keysUsed: IKey[] = [];
      const dlqsWritten: IQueue[] = [];
      let putsEvents = false;
      for (const key of needs.env) {
        const queueKey = (Object.keys(QUEUES) as QueueKey[]).find((k) => QUEUES[k].envVar === key);
        const dlqKey = (Object.keys(QUEUES) as QueueKey[]).find((k) => dlqEnvVar(QUEUES[k]) === key);
        const secretKey = SECRET_ENV_KEYS.find((k) => k === key);
        const optionalSecretKey = OPTIONAL_SECRET_ENV_KEYS.find((k) => k === key);
        const kmsKey = KEY_ENV_VARS.find((k) => k === key);
        if (key === TABLE.envVar) {
          environment[key] = table.tableName;
        } else if (queueKey) {
          environment[key] = queues[queueKey].queue.queueUrl;
        } else if (dlqKey) {
          // A handler that parks messages in a DLQ itself (e.g. deliveries that failed for 24 h).
          environment[key] = queues[dlqKey].dlq.queueUrl;
          dlqsWritten.push(queues[dlqKey].dlq);
        } else if (key === EVENT_BUS_ENV_VAR) {
          environment[key] = eventBus.eventBusName;
          putsEvents = true;
        } else if (key === 'API_NAME') {
          environment[key] = plan.api ?? fail('reads API_NAME but serves no API');
        } else if (secretKey) {
          // The value stays in Secrets Manager; the function fetches it at cold start by ARN.
          environment[`${key}_SECRET_ARN`] = secrets[secretKey].secret.secretArn;
          secretsRead.push(secrets[secretKey]);
        } else if (optionalSecretKey) {
          // Not configured: nothing at all, and the function runs without it (e.g. no client certificate).
          const secret = optionalSecrets[optionalSecretKey];
          if (secret) {
            environment[`${key}_SECRET_ARN`] = secret.secret.secretArn;
            secretsRead.push(secret);
          }
        } else if (kmsKey) {
          environment[key] = keys[kmsKey].keyArn;
          keysUsed.push(keys[kmsKey]);
        } else if (key in fromConfig) {
          const value = fromConfig[key as EnvKey];
          if (value !== undefined) environment[key] = value;
        } else {
          fail(`needs env ${key}, which the stack does not provide (add it to lib/config.ts and configEnv)`);
        }
      }

      const consumerTimeouts = plan.consumes.map((c) => QUEUES[c.queue].consumerTimeoutSeconds);
      const timeoutSeconds = Math.max(
        ...consumerTimeouts,
        plan.tableStream ? STREAM_CONSUMER_TIMEOUT_SECONDS : 0,
        ...plan.schedules.map(scheduledTimeoutSeconds),
        plan.http ? httpTimeoutSeconds(config) : 0,
      );
      // Queue visibility is 6 × consumerTimeoutSeconds: a longer-running consumer would see its batch redelivered.
      if (consumerTimeouts.some((t) => t < timeoutSeconds)) fail(`its ${timeoutSeconds} s timeout exceeds a consumed queue's consumerTimeoutSeconds`);

      const fn = new ServiceFunction(this, plan.id, {
        handlerName: plan.handler,
        description: `${SERVICE_NAME} ${plan.handler}${plan.api ? ` (${plan.api} API)` : ''}`,
        memoryMb: needs.memoryMb ?? DEFAULT_MEMORY_MB,
        timeout: Duration.seconds(timeoutSeconds),
        environment,
        logRetention: config.logRetentionDays,
      });

      if (needs.table !== 'none') grantTable(table, fn, needs.table);
      for (const queue of needs.sendsTo) queues[queue].queue.grantSendMessages(fn);
      for (const dlq of dlqsWritten) dlq.grantSendMessages(fn);
      if (putsEvents) {
        // PutEvents on this one bus, and only events whose source is the service (DESIGN §8): not eventBus.grantPutEventsTo,
        // which has no source condition.
        fn.addToRolePolicy(
          new PolicyStatement({
            actions: ['events:PutEvents'],
            resources: [eventBus.eventBusArn],
            conditions: { StringEquals: { 'events:source': SERVICE_NAME } },
          }),
        );
      }
      for (const secret of secretsRead) {
        // GetSecretValue only, on this one secret: DescribeSecret and the other read actions are not needed.
        fn.addToRolePolicy(new PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [secret.policyArn] }));
      }
      for (const key of keysUsed) {
        // Role policy only, on this one key (the key policy leaves authorisation to IAM): no wildcard action.
        key.grant(fn, ...KEY_USER_ACTIONS);
      }
      for (const consumer of plan.consumes) {
        fn.addEventSource(
          new SqsEventSource(queues[consumer.queue].queue, {
            batchSize: consumer.batchSize,
            maxConcurrency: consumerConcurrency(consumer, config.d1MaxTps),
            // Only the failed records return to the queue; the rest of the batch is deleted.
            reportBatchItemFailures: true,
          }),
        );
      }
      if (plan.tableStream) {
        const onFailure = streamFailures[plan.handler] ?? fail('consumes the table stream but has no on-failure queue (Queues tableStreamConsumers)');
        // The event source grants the stream reads (DescribeStream, GetRecords, GetShardIterator, ListStreams on the
        // stream ARN) and SendMessage on the on-failure queue.
        fn.addEventSource(
          new DynamoEventSource(table, {
            // The stream's oldest record (24 h) first: a new or re-created mapping publishes what it has not seen.
            startingPosition: StartingPosition.TRIM_HORIZON,
            batchSize: plan.tableStream.batchSize,
            retryAttempts: plan.tableStream.retryAttempts,
            // The consumer stops at the first record it cannot publish and reports it (lambdas/streams/
            // table-stream-consumer.ts): Lambda retries from that record on, what came before is not redone and what
            // comes after waits, so the events of one item keep their order. A batch that fails whole (a throw, a
            // timeout) is split in two and retried, so one poison record ends up alone in the on-failure queue.
            bisectBatchOnError: true,
            reportBatchItemFailures: true,
            // One batch per shard at a time: records of one item are in one shard, so they are published in order.
            parallelizationFactor: 1,
            // What is left after retryAttempts: the batch's shard and sequence numbers, not the records.
            onFailure: new SqsDlq(onFailure),
            filters: [PUBLISHED_CHANGES],
          }),
        );
      }
      this.byKey.set(keyOf(plan.handler, plan.api), fn);
    }
  }

  /** The function serving `handler` on `api` (the per-API one for handlers that read API_NAME). */
  forApi(handler: HandlerName, api: ApiName): ServiceFunction {
    const fn = this.byKey.get(keyOf(handler, api)) ?? this.byKey.get(handler);
    if (!fn) throw new Error(`no Lambda planned for handler ${handler}`);
    return fn;
  }

  /** Every function, with the plan it was built from (for alarms and schedules). */
  get all(): { plan: FunctionPlan; fn: ServiceFunction }[] {
    return this.plans.map((plan) => ({ plan, fn: this.byKey.get(keyOf(plan.handler, plan.api)) as ServiceFunction }));
  }
}
