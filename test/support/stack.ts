import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { LOCAL_CREDENTIALS, LOCAL_REGION, provisionResources, type ProvisionedResources } from '../../local/local-aws';
import { startLocalService, type LocalService, type LocalServiceOptions } from '../../local/service';
import { useStarted } from './live';

/** Local defaults every handler may read; a test overrides what it checks. */
export const TEST_ENV = {
  ISSUER_ID: 'ISSUER0001',
  TR_API_KEY: 'test-tr-key',
  D1_ISSUER_BASE_URL: 'http://127.0.0.1:9/d1',
  D1_COF_BASE_URL: 'http://127.0.0.1:9/cof',
  D1_COF_API_KEY: 'test-cof-key',
  TR_JWE_PRIVATE_KEY: 'unused',
  DATA_KEY: Buffer.alloc(32, 7).toString('base64'),
};

export interface TestStack {
  resources: ProvisionedResources;
  service: LocalService;
  url: string;
  ddb: DynamoDBDocumentClient;
  sqs: SQSClient;
  stop(): Promise<void>;
}

/**
 * A private copy of the service for one test file: its own prefixed table and queues on the shared DynamoDB
 * Local + fauxqs (test/global-setup.ts), the real gateway and pollers, and real SDK clients for assertions.
 * Handler modules read env at import, so this sets process.env before anything loads them.
 */
export type TestStackOptions = Partial<Omit<LocalServiceOptions, 'sqsEndpoint' | 'queues' | 'port'>> & { env?: Record<string, string> };

export async function startTestStack(options: TestStackOptions = {}): Promise<TestStack> {
  const ddbEndpoint = process.env.LOCAL_DDB_ENDPOINT;
  const sqsEndpoint = process.env.LOCAL_SQS_ENDPOINT;
  if (!ddbEndpoint || !sqsEndpoint) throw new Error('the Jest global setup did not start local AWS');
  const prefix = `t${randomUUID().slice(0, 8)}-`;
  const resources = await provisionResources({ ddbEndpoint, sqsEndpoint, prefix, visibilityTimeoutSeconds: 2 });
  // The delivery consumer parks spent deliveries in its queue's DLQ itself, so it needs that URL too.
  Object.assign(process.env, TEST_ENV, resources.env, { WEBHOOK_DELIVERIES_DLQ_URL: resources.queues.webhookDeliveries.dlqUrl }, options.env ?? {});
  const service = await startLocalService({ schedules: [], ...options, port: 0, sqsEndpoint, queues: resources.queues });
  const clientConfig = { region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS };
  const ddb = DynamoDBDocumentClient.from(new DynamoDBClient({ ...clientConfig, endpoint: ddbEndpoint }));
  const sqs = new SQSClient({ ...clientConfig, endpoint: sqsEndpoint });
  return {
    resources,
    service,
    url: service.gateway.url,
    ddb,
    sqs,
    async stop() {
      await service.stop();
      ddb.destroy();
      sqs.destroy();
    },
  };
}

/**
 * This file's stack: started in beforeAll, stopped afterAll. What it returns stands for the running stack, so a
 * file names it at the top and reads it in tests and hooks (reading it outside them, before the start, throws).
 */
export function useTestStack(options: TestStackOptions = {}): TestStack {
  return useStarted(
    'the test stack',
    () => startTestStack(options),
    (stack) => stack.stop(),
  );
}

/** Polls until `probe` returns a value (not undefined) or the deadline passes. */
export async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs = 10_000, intervalMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
