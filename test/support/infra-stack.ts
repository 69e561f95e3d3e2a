import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, type AppProps, type CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { IConstruct } from 'constructs';
import { loadStackConfig } from '../../lib/config';
import { TokenLifecycleStack } from '../../lib/token-lifecycle-stack';
import { SERVICE_TOPOLOGY, type Topology } from '../../lib/topology';
import type { EnvKey } from '../../lambdas/config/env';
import { OPTIONAL_SECRET_ENV_KEYS, SECRET_ENV_KEYS, type OptionalSecretEnvKey, type SecretEnvKey } from '../../lambdas/topology';
import { liveView } from './live';

/**
 * The infra tests' one stack bootstrap: what the template must guarantee is checked on the service's topology
 * (whatever lambdas/topology.ts holds today) and on an extended copy that adds what the service does not have yet,
 * so no check iterates over nothing: imported secrets, a handler that is both a route and a consumer, one that is
 * both a route and a schedule, a second table-stream consumer, a reader of a DLQ's URL, an alarm topic.
 *
 * Bundling is skipped (`aws:cdk:bundling-stacks: []`) and CDK's built-in CloudFormation validation is off
 * (toolchain §9 trap 3: ~2.5 s per synth); `npx cdk synth` runs both.
 */
const OFFLINE = { 'aws:cdk:bundling-stacks': [] };

/** Planted as env vars and stray context: no code path may carry a secret value into the template. */
export const SENTINEL = 'SENTINEL-secret-value-3f9a1c';
/** Secret values as they really look: PEM blocks and the `APIKEY <key>` header D1 sends. */
export const PEM_KEY_SENTINEL = `-----BEGIN PRIVATE KEY-----\nMIIE${SENTINEL}\n-----END PRIVATE KEY-----\n`;
export const PEM_CERT_SENTINEL = `-----BEGIN CERTIFICATE-----\nMIID${SENTINEL}\n-----END CERTIFICATE-----\n`;
export const APIKEY_SENTINEL = `APIKEY ${SENTINEL}`;
const SENTINEL_VALUES: Record<SecretEnvKey | OptionalSecretEnvKey, string> = {
  TR_API_KEY: APIKEY_SENTINEL,
  D1_COF_API_KEY: APIKEY_SENTINEL,
  TR_JWE_PRIVATE_KEY: PEM_KEY_SENTINEL,
  D1_CLIENT_CERT: PEM_CERT_SENTINEL,
  D1_CLIENT_KEY: PEM_KEY_SENTINEL,
};
/** What must never appear in a template: the sentinel, any PEM block, the API-key scheme. */
export const SECRET_MARKERS = [SENTINEL, 'BEGIN PRIVATE KEY', 'PRIVATE KEY-----', 'BEGIN CERTIFICATE', 'APIKEY'];
export const ALL_SECRET_KEYS = [...SECRET_ENV_KEYS, ...OPTIONAL_SECRET_ENV_KEYS];
/**
 * Every place a careless stack could pick a value up: the env var itself (`process.env` at synth), and context
 * keyed by the env name, by the camelCase name, and by that name + `Value`.
 */
const camel = (key: string) => key.toLowerCase().replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
const STRAY_CONTEXT = Object.fromEntries(
  ALL_SECRET_KEYS.flatMap((k) => [
    [k, SENTINEL_VALUES[k]],
    [camel(k), SENTINEL_VALUES[k]],
    [`${camel(k)}Value`, SENTINEL_VALUES[k]],
  ]),
);
export const IMPORTED_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:token-lifecycle/tr-api-key-AbC123';
export const ALARM_TOPIC = 'arn:aws:sns:eu-west-1:123456789012:token-lifecycle-alarms';
/** Our mTLS client identity toward D1: the certificate by name, the key by complete ARN (both forms covered). */
export const CLIENT_CERT_NAME = 'token-lifecycle/d1-client-cert';
export const CLIENT_KEY_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:token-lifecycle/d1-client-key-XyZ789';
export const CLIENT_IDENTITY = { d1ClientCertSecret: CLIENT_CERT_NAME, d1ClientKeySecret: CLIENT_KEY_ARN };
export const CERTIFICATE_ARN = 'arn:aws:acm:eu-west-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b';
export const WEBHOOK_DOMAIN = {
  webhookDomainName: 'Hooks.Example.com',
  webhookCertificateArn: CERTIFICATE_ARN,
  webhookTruststoreUri: 's3://issuer-truststores/thales/d1-client-ca.pem',
  webhookTruststoreVersion: '3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY',
};

/**
 * The webhook-deliveries DLQ's URL, for a handler that parks deliveries there itself. Not in lambdas/config/env.ts
 * until that handler lands; the stack wires any `<QUEUE>_DLQ_URL` from QUEUES.
 */
export const DLQ_URL_VAR = 'WEBHOOK_DELIVERIES_DLQ_URL' as EnvKey;

/**
 * `health`, `not-found` and `openapi` stand in for future handlers (the wiring is data; any existing entry module will
 * do): health becomes IAM routes, a queue consumer and a producer with table, config and secret needs; the per-API
 * fallback gets read access to the table; openapi, still a route, becomes a second table-stream consumer that puts
 * events on the bus, parks messages in the webhook-deliveries DLQ and declares the loopback switch.
 */
export const EXTENDED: Topology = {
  ...SERVICE_TOPOLOGY,
  httpRoutes: [
    ...SERVICE_TOPOLOGY.httpRoutes,
    // Paths the service will never have, so the extension cannot collide with real routes.
    { api: 'backoffice', method: 'GET', path: '/v1/infra-test/{probeId}', handler: 'health', auth: 'iam' },
    { api: 'backoffice', method: 'POST', path: '/v1/infra-test', handler: 'health', auth: 'iam' },
  ],
  queueConsumers: [{ queue: 'd1Requests', handler: 'health', batchSize: 5, maxConcurrency: 2 }],
  tableStreamConsumers: [...SERVICE_TOPOLOGY.tableStreamConsumers, { handler: 'openapi', batchSize: 10, retryAttempts: 3 }],
  // A routed handler on a timer too: one function serves both, with the longer scheduled timeout.
  schedules: [...SERVICE_TOPOLOGY.schedules, { handler: 'reconcile', rateMinutes: 60 }],
  handlers: {
    ...SERVICE_TOPOLOGY.handlers,
    health: {
      env: ['TABLE_NAME', 'ISSUER_ID', 'D1_TIMEOUT_MS', 'TR_API_KEY', 'D1_COF_API_KEY', 'ISSUER_CALLBACKS_QUEUE_URL'],
      table: 'readwrite',
      sendsTo: ['issuerCallbacks'],
      memoryMb: 512,
    },
    'not-found': { env: ['API_NAME', 'TABLE_NAME'], table: 'read', sendsTo: [] },
    openapi: {
      env: ['TABLE_NAME', 'EVENT_BUS_NAME', 'EVENT_RETENTION_DAYS', 'WEBHOOK_ALLOW_LOOPBACK', DLQ_URL_VAR, 'WEBHOOK_DELIVERIES_QUEUE_URL'],
      table: 'read',
      sendsTo: ['webhookDeliveries'],
    },
  },
};

export interface Synth {
  stack: TokenLifecycleStack;
  /** Optional config-backed env vars this synth left unset (the Lambda applies its default). */
  unset: string[];
  template: Template;
  json: string;
  topology: Topology;
  id: (construct: IConstruct) => string;
}

export interface InfraStacks {
  /** Fast and tidy: no CloudFormation schema validation, every cloud assembly under one temp dir removed afterAll. */
  appProps(context?: Record<string, unknown>): AppProps;
  /** Every secret generated, no optional secret, no custom domain. */
  service: Synth;
  /** Imported secrets, the client identity toward D1, the mTLS webhook domain, an alarm topic. */
  extended: Synth;
  /** Both synths by name, for `describe.each`. */
  cases: [string, () => Synth][];
}

/** A stand-in for the value `make` returns, made the first time a property is read and kept. */
function onFirstUse<T extends object>(make: () => T): T {
  let value: T | undefined;
  return liveView(() => (value ??= make()));
}

/** Plants the secret sentinels in process.env; the returned function puts the env back as it was. */
function plantSentinels(): () => void {
  const saved = Object.fromEntries(ALL_SECRET_KEYS.map((key) => [key, process.env[key]]));
  for (const key of ALL_SECRET_KEYS) process.env[key] = SENTINEL_VALUES[key];
  return () => {
    for (const key of ALL_SECRET_KEYS) {
      if (saved[key] === undefined) delete process.env[key];
      else process.env[key] = saved[key];
    }
  };
}

/**
 * This file's stacks: the secret sentinels are planted in process.env for the whole file (beforeAll), and the env
 * and the temp dir of cloud assemblies are restored and removed afterAll. Each stack is synthesised once per file,
 * when it is first read (never in a file that does not read it), with the sentinels planted whenever that is:
 * `service` and `extended` can be destructured at the top of a file.
 */
export function useInfraStacks(): InfraStacks {
  let restore: (() => void) | undefined;
  let out: string | undefined;
  let apps = 0;

  beforeAll(() => {
    restore = plantSentinels();
  });
  afterAll(() => {
    if (out) fs.rmSync(out, { recursive: true, force: true });
    restore?.();
  });

  const appProps = (context: Record<string, unknown> = {}): AppProps => {
    out ??= fs.mkdtempSync(path.join(os.tmpdir(), 'infra-test-'));
    return { builtinCloudFormationValidation: false, outdir: path.join(out, String(apps++)), context: { ...OFFLINE, ...context } };
  };

  function synth(topology: Topology, context: Record<string, unknown>, unset: string[] = []): Synth {
    const unplant = plantSentinels();
    try {
      const app = new App(appProps(context));
      const config = loadStackConfig((key) => app.node.tryGetContext(key));
      const stack = new TokenLifecycleStack(app, 'Test', { config, topology });
      const template = Template.fromStack(stack);
      const id = (construct: IConstruct) => stack.resolve(stack.getLogicalId((construct.node.defaultChild ?? construct) as CfnElement)) as string;
      return { stack, unset, template, json: JSON.stringify(template.toJSON()), topology, id };
    } finally {
      unplant();
    }
  }

  // WEBHOOK_ALLOW_LOOPBACK is never set in AWS, whatever the configuration.
  const service = onFirstUse(() => synth(SERVICE_TOPOLOGY, STRAY_CONTEXT, ['HISTORY_RETENTION_DAYS', 'WEBHOOK_ALLOW_LOOPBACK', 'CONSOLE_AGENT_ROLE_NAME']));
  const extended = onFirstUse(() =>
    synth(
      EXTENDED,
      {
        ...STRAY_CONTEXT,
        trApiKeySecret: IMPORTED_ARN,
        d1CofApiKeySecret: 'token-lifecycle/d1-cof-api-key',
        ...CLIENT_IDENTITY,
        ...WEBHOOK_DOMAIN,
        alarmTopicArn: ALARM_TOPIC,
        historyRetentionDays: 400,
        eventRetentionDays: 7,
        consoleAgentRoleName: 'token-console-agents',
      },
      ['WEBHOOK_ALLOW_LOOPBACK'],
    ),
  );
  return {
    appProps,
    service,
    extended,
    cases: [
      ['service topology', () => service],
      ['extended topology', () => extended],
    ],
  };
}

export type Resource = { Type: string; Properties: Record<string, any>; DeletionPolicy?: string; UpdateReplacePolicy?: string };
export const resources = (s: Synth, type: string) => Object.entries(s.template.findResources(type)) as [string, Resource][];
export const getAtt = (logicalId: string, attr = 'Arn') => ({ 'Fn::GetAtt': [logicalId, attr] });
export type Statement = { Effect: string; Action: string | string[]; Resource: unknown };
export const actionsOf = (st: Statement): string[] => [st.Action].flat();
/** `rate(5 minutes)`, `rate(1 hour)`, `rate(1 day)` → minutes (CDK writes a whole number of the largest unit). */
export const rateMinutesOf = (expression: string): number => {
  const match = /^rate\((\d+) (minute|hour|day)s?\)$/.exec(expression);
  if (!match) throw new Error(`not a rate expression: ${expression}`);
  return Number(match[1]) * { minute: 1, hour: 60, day: 1440 }[match[2] as 'minute' | 'hour' | 'day'];
};
/** What a scheduled run may take: its interval, at most Lambda's 15 minutes. */
export const scheduledTimeout = (rateMinutes: number) => Math.min(900, rateMinutes * 60);
/**
 * The stack's one dashboard: its body (a `Fn::Join` of JSON text and tokens) parsed, each token rendered as
 * `${LogicalId}` or `${LogicalId.Attribute}` inside its string, and every graphed series as one line,
 * `[namespace, name, dim, value, …, {stat, …}]` → "namespace name dim=value … stat".
 */
export const dashboardOf = (s: Synth): { id: string; body: { widgets: { type: string; properties: Record<string, any> }[] }; lines: string[] } => {
  const dashboards = resources(s, 'AWS::CloudWatch::Dashboard');
  expect(dashboards).toHaveLength(1);
  const [id, dashboard] = dashboards[0]!;
  const parts: unknown[] = dashboard.Properties.DashboardBody['Fn::Join'][1];
  const render = (p: any): string => (typeof p === 'string' ? p : p.Ref ? `\${${p.Ref}}` : `\${${p['Fn::GetAtt'].join('.')}}`);
  const body = JSON.parse(parts.map(render).join('')) as { widgets: { type: string; properties: Record<string, any> }[] };
  const series = body.widgets.flatMap((w) => (w.type === 'metric' ? (w.properties.metrics as unknown[][]) : []));
  const lines = series.map((m) => {
    const options = (typeof m.at(-1) === 'object' ? m.at(-1) : {}) as { stat?: string };
    const fields = m.filter((x) => typeof x === 'string') as string[];
    const dims = [];
    for (let i = 2; i + 1 < fields.length; i += 2) dims.push(`${fields[i]}=${fields[i + 1]}`);
    return [fields[0], fields[1], ...dims, options.stat].join(' ');
  });
  return { id, body, lines };
};
/** Every statement granted to a function's role: its policies plus any inline ones on the role itself. */
export const roleStatements = (s: Synth, fn: IFunction): Statement[] => {
  const roleId = s.id(fn.role!);
  const inline = (s.template.toJSON().Resources[roleId].Properties.Policies ?? []) as { PolicyDocument: { Statement: Statement[] } }[];
  const attached = resources(s, 'AWS::IAM::Policy').filter(([, p]) => p.Properties.Roles.some((r: any) => r.Ref === roleId));
  return [...inline, ...attached.map(([, p]) => p.Properties)].flatMap((p) => p.PolicyDocument.Statement);
};
