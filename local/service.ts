import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { SQSClient } from '@aws-sdk/client-sqs';
import {
  consumerConcurrency,
  QUEUE_CONSUMERS,
  SCHEDULES,
  TABLE_STREAM_CONSUMERS,
  type HandlerName,
  type HttpRoute,
  type QueueConsumer,
  type Schedule,
  type TableStreamConsumer,
} from '../lambdas/topology';
import { loadEnv } from '../lambdas/config/env';
import { startGateway, type Gateway, type GatewayOptions, type HandlerLoader } from './gateway';
import { handlerOf } from './handler-module';
import { LOCAL_CREDENTIALS, LOCAL_REGION, type ProvisionedResources } from './local-aws';
import { startPoller, type Poller, type SqsHandler } from './sqs-poller';
import { startStreamPoller, type StreamHandler, type StreamPoller } from './stream-poller';

export type ConsumerLoader = (name: HandlerName) => Promise<SqsHandler>;

const loadConsumerModule: ConsumerLoader = handlerOf<SqsHandler>;

export interface LocalServiceOptions {
  port: number;
  host?: string;
  sqsEndpoint: string;
  queues: ProvisionedResources['queues'];
  routes?: readonly HttpRoute[];
  consumers?: readonly QueueConsumer[];
  /** The table whose change stream the stream consumers read (DynamoDB Local); absent = no stream consumer runs. */
  table?: { ddbEndpoint: string; tableName: string };
  streamConsumers?: readonly TableStreamConsumer[];
  loadStreamConsumer?: (name: HandlerName) => Promise<StreamHandler>;
  loadHandler?: HandlerLoader;
  /** Passed to the gateway: requests it answers itself (the console). */
  intercept?: GatewayOptions['intercept'];
  loadConsumer?: ConsumerLoader;
  /** Timers standing in for EventBridge schedules; [] = none (tests trigger them directly). */
  schedules?: readonly Schedule[];
  /** Overrides every schedule's rate locally (e.g. every minute instead of every 5). */
  scheduleIntervalMs?: number;
  log?: (line: string) => void;
}

export interface LocalService {
  gateway: Gateway;
  pollers: Poller[];
  streamPollers: StreamPoller[];
  /** Resolves when no poller holds a message (the queues themselves may still have some). */
  idle(): Promise<void>;
  /** Resolves once the stream consumers have read and handled every change written before the call. */
  published(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The service as Lambda would run it: the HTTP gateway for both APIs and one SQS poller per consumer of
 * lambdas/topology.ts. Handler modules read their env at import, so set process.env before calling this.
 */
export async function startLocalService(options: LocalServiceOptions): Promise<LocalService> {
  const sqs = new SQSClient({ endpoint: options.sqsEndpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  const loadConsumer = options.loadConsumer ?? loadConsumerModule;
  // The gateway first: it answers as soon as it listens; consumer modules load while it does.
  const gateway = await startGateway({
    port: options.port,
    ...(options.host ? { host: options.host } : {}),
    ...(options.routes ? { routes: options.routes } : {}),
    ...(options.loadHandler ? { loadHandler: options.loadHandler } : {}),
    ...(options.intercept ? { intercept: options.intercept } : {}),
    ...(options.log ? { log: options.log } : {}),
  });
  const pollers: Poller[] = [];
  const d1MaxTps = loadEnv(['D1_MAX_TPS'], process.env).D1_MAX_TPS;
  for (const consumer of options.consumers ?? QUEUE_CONSUMERS) {
    const queue = options.queues[consumer.queue];
    pollers.push(
      startPoller({
        sqs,
        queueUrl: queue.url,
        queueArn: queue.arn,
        handler: await loadConsumer(consumer.handler),
        name: consumer.handler,
        batchSize: consumer.batchSize,
        // Four pollers are plenty on a laptop; a paced consumer needs its records in flight to keep D1's pace.
        concurrency: consumer.pacedByD1 ? consumerConcurrency(consumer, d1MaxTps) : Math.min(consumer.maxConcurrency, 4),
        ...(options.log ? { log: options.log } : {}),
      }),
    );
  }
  // The table's stream, read as Lambda's event source would; without a table, no stream consumer runs.
  const table = options.table;
  const clientConfig = { region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS };
  const streamClients = table
    ? {
        streams: new DynamoDBStreamsClient({ ...clientConfig, endpoint: table.ddbEndpoint }),
        ddb: new DynamoDBClient({ ...clientConfig, endpoint: table.ddbEndpoint }),
      }
    : undefined;
  const streamPollers: StreamPoller[] = [];
  if (table && streamClients) {
    for (const consumer of options.streamConsumers ?? TABLE_STREAM_CONSUMERS) {
      streamPollers.push(
        startStreamPoller({
          ...streamClients,
          tableName: table.tableName,
          handler: await (options.loadStreamConsumer ?? handlerOf<StreamHandler>)(consumer.handler),
          name: consumer.handler,
          batchSize: consumer.batchSize,
          retryAttempts: consumer.retryAttempts,
          ...(options.log ? { log: options.log } : {}),
        }),
      );
    }
  }
  const timers: NodeJS.Timeout[] = [];
  for (const schedule of options.schedules ?? SCHEDULES) {
    const handler = await handlerOf<(event: unknown) => Promise<unknown>>(schedule.handler);
    const run = (): void => {
      handler({ source: 'local.schedule' }).catch((err: unknown) => options.log?.(`${schedule.handler} failed: ${(err as Error).message}`));
    };
    timers.push(setInterval(run, options.scheduleIntervalMs ?? schedule.rateMinutes * 60_000));
  }

  return {
    gateway,
    pollers,
    streamPollers,
    async idle() {
      while (pollers.some((p) => p.inFlight > 0) || streamPollers.some((p) => p.inFlight > 0)) await new Promise((resolve) => setTimeout(resolve, 20));
    },
    async published() {
      await Promise.all(streamPollers.map((p) => p.caughtUp()));
    },
    async stop() {
      timers.forEach((timer) => clearInterval(timer));
      await Promise.all([gateway.stop(), ...pollers.map((p) => p.stop()), ...streamPollers.map((p) => p.stop())]);
      sqs.destroy();
      streamClients?.streams.destroy();
      streamClients?.ddb.destroy();
    },
  };
}
