/* eslint-disable @typescript-eslint/no-require-imports -- jest.isolateModules: each case loads the modules afresh, under its environment */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { UNTRACED, type ClientTracing } from '../../lambdas/adapters/client-tracing';

/**
 * X-Ray on the SDK clients: given `traceClient` (lambdas/tracing.ts), the adapters wrap the DynamoDB and SQS clients
 * they build with its one tracer; given `UNTRACED` (the hot path), they do not. Each case loads the modules in its
 * own registry, with the environment it describes.
 */

const XRAY_MIDDLEWARE = 'XRaySDKInstrumentation';
type Modules = {
  tracing: typeof import('../../lambdas/tracing');
  dynamodb: typeof import('../../lambdas/adapters/dynamodb-client');
  sqs: typeof import('../../lambdas/adapters/sqs-queue');
};

/** The modules as a handler loads them, under `env` (undefined = unset), the environment restored afterwards. */
function load(env: Record<string, string | undefined>): Modules {
  const saved = { ...process.env };
  try {
    for (const [k, v] of Object.entries(env)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    let modules: Modules | undefined;
    jest.isolateModules(() => {
      modules = {
        tracing: require('../../lambdas/tracing'),
        dynamodb: require('../../lambdas/adapters/dynamodb-client'),
        sqs: require('../../lambdas/adapters/sqs-queue'),
      };
    });
    return modules!;
  } finally {
    process.env = saved;
  }
}

/** The raw clients documentClient() and sqsClient() build, as the adapters' client hooks see them. */
function builtClients({ dynamodb, sqs }: Modules, tracing: ClientTracing): { ddb: DynamoDBClient; sqs: SQSClient } {
  let ddb: DynamoDBClient | undefined;
  dynamodb.setDynamoDbClientHook((client) => (ddb = client));
  dynamodb.documentClient(tracing);
  return { ddb: ddb!, sqs: sqs.sqsClient(tracing) };
}

const middlewareOf = (client: DynamoDBClient | SQSClient): string[] => client.middlewareStack.identify();

describe('X-Ray tracing of the SDK clients', () => {
  it('outside Lambda (tests, npm start): off, plain clients, and the X-Ray SDK in manual mode (no async hook)', () => {
    const modules = load({ AWS_EXECUTION_ENV: undefined, AWS_XRAY_MANUAL_MODE: undefined });
    expect(modules.tracing.tracer.isTracingEnabled()).toBe(false);
    const clients = builtClients(modules, modules.tracing.traceClient);
    for (const client of [clients.ddb, clients.sqs]) expect(middlewareOf(client).join('\n')).not.toContain(XRAY_MIDDLEWARE);
    // cls-hooked registers its namespace (and enables its async hook) only in automatic mode.
    expect((process as unknown as { namespaces?: Record<string, unknown> }).namespaces?.AWSXRay).toBeUndefined();
  });

  it('in Lambda: every DynamoDB and SQS client the adapters build with traceClient carries the X-Ray middleware', () => {
    // Manual mode and no HTTPS capture keep this process free of the SDK's global hooks and patches; neither
    // changes how a client is wrapped.
    const modules = load({ AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x', AWS_XRAY_MANUAL_MODE: '1', POWERTOOLS_TRACER_CAPTURE_HTTPS_REQUESTS: 'false' });
    expect(modules.tracing.tracer.isTracingEnabled()).toBe(true);
    const clients = builtClients(modules, modules.tracing.traceClient);
    for (const client of [clients.ddb, clients.sqs]) expect(middlewareOf(client).join('\n')).toContain(XRAY_MIDDLEWARE);
  });

  it('in Lambda: the clients the hot path builds (UNTRACED) carry no X-Ray middleware', () => {
    const modules = load({ AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x', AWS_XRAY_MANUAL_MODE: '1', POWERTOOLS_TRACER_CAPTURE_HTTPS_REQUESTS: 'false' });
    const clients = builtClients(modules, UNTRACED);
    for (const client of [clients.ddb, clients.sqs]) expect(middlewareOf(client).join('\n')).not.toContain(XRAY_MIDDLEWARE);
  });

  it('in Lambda the X-Ray SDK keeps its automatic mode (manual mode is set only outside Lambda)', () => {
    const saved = { ...process.env };
    try {
      delete process.env.AWS_XRAY_MANUAL_MODE;
      process.env.AWS_EXECUTION_ENV = 'AWS_Lambda_nodejs24.x';
      jest.isolateModules(() => require('../../lambdas/config/xray-mode'));
      expect(process.env.AWS_XRAY_MANUAL_MODE).toBeUndefined();
      delete process.env.AWS_EXECUTION_ENV;
      jest.isolateModules(() => require('../../lambdas/config/xray-mode'));
      expect(process.env.AWS_XRAY_MANUAL_MODE).toBe('1');
    } finally {
      process.env = saved;
    }
  });
});
