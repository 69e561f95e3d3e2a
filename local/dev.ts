/**
 * `npm start`: the whole service on this machine, no Docker — DynamoDB Local, fauxqs, the tables and queues of
 * lambdas/topology.ts, the HTTP gateway in front of the real handler modules, the SQS pollers and the D1
 * simulator. Ctrl-C or SIGTERM stops everything, the JVM included.
 */
import { generateKeyPair, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import * as z from 'zod/mini';
import { ConfigError, envSchema } from '../lambdas/config/env';
import { provisionResources, startLocalAws } from './local-aws';
import { startLocalService, type LocalService } from './service';
import { startD1Simulator, type D1Simulator } from './d1-simulator';
import { startEventSink } from './event-sink';
import { seedDemoData } from './seed';
import { startConsoleSite } from './console-server';

const started = Date.now();
const stoppers: Array<() => Promise<void>> = [];
let stopping = false;

async function shutdown(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  const hardStop = setTimeout(() => process.exit(code), 5000);
  hardStop.unref();
  for (const stop of stoppers.reverse()) await stop().catch(() => undefined);
  process.exit(code);
}

process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));
process.on('SIGHUP', () => void shutdown(0));
// `npm start` does not pass SIGTERM on to its child (toolchain §4): when npm goes, our parent changes, and we go.
const parentPid = process.ppid;
setInterval(() => {
  if (process.ppid !== parentPid) void shutdown(0);
}, 250).unref();

/** DESIGN §5 local defaults; anything set in the environment wins. Generated secrets never leave this process tree. */
function localEnv(): NodeJS.ProcessEnv {
  const simPort = process.env.D1_SIM_PORT ?? '3100';
  const simUrl = `http://127.0.0.1:${simPort}`;
  const defaults: Record<string, string> = {
    PORT: '3000',
    ISSUER_ID: 'ISSUER0001',
    TR_API_KEY: 'local-tr-key',
    D1_ISSUER_BASE_URL: simUrl,
    D1_COF_BASE_URL: simUrl,
    D1_COF_API_KEY: 'local-cof-key',
    D1_SIM_PORT: simPort,
    LOCAL_DDB_PORT: '8000',
    LOCAL_SQS_PORT: '9324',
    LOG_LEVEL: 'INFO',
    // Responses are checked against their route's schema locally (off in AWS): a mismatch is a 500 here, not a surprise for a client.
    CHECK_RESPONSES: '1',
    // Webhook subscriptions may point at http://127.0.0.1 (the event sink below); never in AWS.
    WEBHOOK_ALLOW_LOOPBACK: 'true',
  };
  return { ...defaults, ...process.env };
}

/** The secrets `npm start` makes up when none are given; RSA generation runs on the threadpool, beside the JVM start. */
async function generatedSecrets(env: NodeJS.ProcessEnv): Promise<Record<string, string>> {
  const generated: Record<string, string> = {};
  if (env.TR_JWE_PRIVATE_KEY === undefined) {
    const { privateKey } = await promisify(generateKeyPair)('rsa', { modulusLength: 2048 });
    generated.TR_JWE_PRIVATE_KEY = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  }
  if (env.DATA_KEY === undefined) generated.DATA_KEY = randomBytes(32).toString('base64');
  return generated;
}

/** What the operator may set: everything but the resource wiring, which provisioning fills in. */
const operatorSchema = z.omit(envSchema, {
  TABLE_NAME: true,
  ISSUER_CALLBACKS_QUEUE_URL: true,
  TOKEN_UPDATES_QUEUE_URL: true,
  D1_REQUESTS_QUEUE_URL: true,
  D1_BULK_REQUESTS_QUEUE_URL: true,
  LCM_JOBS_QUEUE_URL: true,
  WEBHOOK_DELIVERIES_QUEUE_URL: true,
  WEBHOOK_DELIVERIES_DLQ_URL: true,
});

async function main(): Promise<void> {
  const operatorEnv = localEnv();
  // Resource wiring and generated secrets are filled in below; validate everything the operator set before starting anything.
  operatorSchema.parse({ TR_JWE_PRIVATE_KEY: 'generated', DATA_KEY: Buffer.alloc(32).toString('base64'), ...operatorEnv });
  const log = (line: string): void => console.log(`[local] ${line}`);

  const startingEngines = startLocalAws({ ddbPort: Number(operatorEnv.LOCAL_DDB_PORT), sqsPort: Number(operatorEnv.LOCAL_SQS_PORT) });
  stoppers.push(async () => (await startingEngines.catch(() => undefined))?.stop());
  // The operations console (/console/ on the service's port: same origin as the API, so no CORS) builds meanwhile.
  const [engines, generated, consoleSite] = await Promise.all([startingEngines, generatedSecrets(operatorEnv), startConsoleSite()]);
  stoppers.push(() => consoleSite.stop());
  const env = { ...operatorEnv, ...generated };
  const config = operatorSchema.parse(env);
  const resources = await provisionResources({ ddbEndpoint: engines.ddbEndpoint, sqsEndpoint: engines.sqsEndpoint });
  Object.assign(process.env, env, engines.env, resources.env);
  // The full schema now, as every Lambda will parse its part of it.
  envSchema.parse(process.env);

  const simulator: D1Simulator = await startD1Simulator({
    port: config.D1_SIM_PORT,
    issuerId: config.ISSUER_ID,
    serviceBaseUrl: `http://127.0.0.1:${config.PORT}`,
    trApiKey: config.TR_API_KEY,
    cofApiKey: config.D1_COF_API_KEY,
    // Only the public half is used: D1 encrypts Create Transaction credentials to it.
    trJwePublicKey: config.TR_JWE_PRIVATE_KEY,
    log: (line) => console.log(`[d1-sim] ${line}`),
  });
  stoppers.push(() => simulator.stop());

  // A customer's webhook endpoint, verifying signatures: subscribe http://127.0.0.1:<port>/events/<name>.
  const sink = await startEventSink({ port: Number(process.env.EVENT_SINK_PORT ?? '3200'), log: (line) => console.log(`[event-sink] ${line}`) });
  stoppers.push(() => sink.stop());

  const service: LocalService = await startLocalService({
    port: config.PORT,
    intercept: consoleSite.handle,
    sqsEndpoint: engines.sqsEndpoint,
    queues: resources.queues,
    // The table's change stream feeds the event publisher, as DynamoDB Streams does in AWS.
    table: { ddbEndpoint: engines.ddbEndpoint, tableName: resources.env.TABLE_NAME! },
    // The reconciliation sweep every minute locally (5 in AWS); what is overdue is still RECONCILE_AFTER_MS.
    scheduleIntervalMs: 60_000,
    log: config.LOG_LEVEL === 'DEBUG' || config.LOG_LEVEL === 'TRACE' ? log : undefined,
  });
  stoppers.push(() => service.stop());

  await seedDemoData({ simulatorUrl: simulator.url, serviceUrl: service.gateway.url, log });
  console.log(`token-lifecycle is up in ${Date.now() - started} ms (Node ${process.version})
  service (both APIs)  ${service.gateway.url}        try: curl ${service.gateway.url}/health
  console              ${consoleSite.url(service.gateway.url)}  (open it in a browser)
  D1 simulator         ${simulator.url}        control API: ${simulator.url}/_sim/
  event sink           ${sink.url}        webhooks to ${sink.sinkUrl('<name>')}, control API: ${sink.url}/sinks/<name>
  DynamoDB Local       ${engines.ddbEndpoint}   table ${resources.env.TABLE_NAME}
  SQS (fauxqs)         ${engines.sqsEndpoint}
Ctrl-C stops everything.`);
}

main().catch(async (err: unknown) => {
  if (stopping) return; // interrupted while starting: not an error
  // zod/mini's error (the env schema's) is core's $ZodError, as classic zod's ZodError is.
  if (err instanceof z.core.$ZodError) {
    console.error(`configuration error: ${err.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`);
  } else if (err instanceof ConfigError) {
    console.error(`configuration error: ${err.message}`);
  } else {
    console.error(err);
  }
  await shutdown(1);
});
