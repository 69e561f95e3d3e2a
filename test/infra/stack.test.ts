import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, type AppProps, type CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import type { IConstruct } from 'constructs';
import { createApp } from '../../lib/app';
import { loadStackConfig } from '../../lib/config';
import { planFunctions } from '../../lib/constructs/functions';
import { TokenLifecycleStack } from '../../lib/token-lifecycle-stack';
import { API_NAMES, SERVICE_TOPOLOGY, type Topology } from '../../lib/topology';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { METRIC_ALARMS, SERVICE_METRICS } from '../../lib/constructs/alarms';
import { DASHBOARD_PANEL_OF } from '../../lib/constructs/dashboard';
import {
  METRICS_NAMESPACE,
  OPTIONAL_SECRET_ENV_KEYS,
  QUEUES,
  SCHEDULES,
  SECRET_ENV_KEYS,
  SERVICE_NAME,
  TABLE,
  routeKey,
  type HandlerName,
  type OptionalSecretEnvKey,
  type QueueKey,
  type SecretEnvKey,
} from '../../lambdas/topology';

/**
 * Infra tests: what the template must guarantee, checked on the service's topology (whatever lambdas/topology.ts
 * holds today) and on an extended copy that adds what the service does not have yet, so no check iterates over
 * nothing: imported secrets, a handler that is both a route and a consumer, one that is both a route and a
 * schedule, an alarm topic.
 *
 * Bundling is skipped (`aws:cdk:bundling-stacks: []`) and CDK's built-in CloudFormation validation is off
 * (toolchain §9 trap 3: ~2.5 s per synth); `npx cdk synth` runs both.
 */
const OFFLINE = { 'aws:cdk:bundling-stacks': [] };
const OUT = fs.mkdtempSync(path.join(os.tmpdir(), 'infra-test-'));
let apps = 0;
/** Fast and tidy: no CloudFormation schema validation, every cloud assembly under one temp dir removed afterwards. */
const appProps = (context: Record<string, unknown> = {}): AppProps => ({
  builtinCloudFormationValidation: false,
  outdir: path.join(OUT, String(apps++)),
  context: { ...OFFLINE, ...context },
});
/** Planted as env vars and stray context: no code path may carry a secret value into the template. */
const SENTINEL = 'SENTINEL-secret-value-3f9a1c';
/** Secret values as they really look: PEM blocks and the `APIKEY <key>` header D1 sends. */
const PEM_KEY_SENTINEL = `-----BEGIN PRIVATE KEY-----\nMIIE${SENTINEL}\n-----END PRIVATE KEY-----\n`;
const PEM_CERT_SENTINEL = `-----BEGIN CERTIFICATE-----\nMIID${SENTINEL}\n-----END CERTIFICATE-----\n`;
const APIKEY_SENTINEL = `APIKEY ${SENTINEL}`;
const SENTINEL_VALUES: Record<SecretEnvKey | OptionalSecretEnvKey, string> = {
  TR_API_KEY: APIKEY_SENTINEL,
  D1_COF_API_KEY: APIKEY_SENTINEL,
  TR_JWE_PRIVATE_KEY: PEM_KEY_SENTINEL,
  D1_CLIENT_CERT: PEM_CERT_SENTINEL,
  D1_CLIENT_KEY: PEM_KEY_SENTINEL,
};
/** What must never appear in a template: the sentinel, any PEM block, the API-key scheme. */
const SECRET_MARKERS = [SENTINEL, 'BEGIN PRIVATE KEY', 'PRIVATE KEY-----', 'BEGIN CERTIFICATE', 'APIKEY'];
const ALL_SECRET_KEYS = [...SECRET_ENV_KEYS, ...OPTIONAL_SECRET_ENV_KEYS];
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
const IMPORTED_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:token-lifecycle/tr-api-key-AbC123';
const ALARM_TOPIC = 'arn:aws:sns:eu-west-1:123456789012:token-lifecycle-alarms';
/** Our mTLS client identity toward D1: the certificate by name, the key by complete ARN (both forms covered). */
const CLIENT_CERT_NAME = 'token-lifecycle/d1-client-cert';
const CLIENT_KEY_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:token-lifecycle/d1-client-key-XyZ789';
const CLIENT_IDENTITY = { d1ClientCertSecret: CLIENT_CERT_NAME, d1ClientKeySecret: CLIENT_KEY_ARN };
const CERTIFICATE_ARN = 'arn:aws:acm:eu-west-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b';
const WEBHOOK_DOMAIN = {
  webhookDomainName: 'Hooks.Example.com',
  webhookCertificateArn: CERTIFICATE_ARN,
  webhookTruststoreUri: 's3://issuer-truststores/thales/d1-client-ca.pem',
  webhookTruststoreVersion: '3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY',
};

/**
 * `health` and `not-found` stand in for future handlers (the wiring is data; any existing entry module will do):
 * health becomes IAM routes, a queue consumer and a producer with table, config and secret needs; the per-API
 * fallback gets read access to the table.
 */
const EXTENDED: Topology = {
  ...SERVICE_TOPOLOGY,
  httpRoutes: [
    ...SERVICE_TOPOLOGY.httpRoutes,
    // Paths the service will never have, so the extension cannot collide with real routes.
    { api: 'backoffice', method: 'GET', path: '/v1/infra-test/{probeId}', handler: 'health', auth: 'iam' },
    { api: 'backoffice', method: 'POST', path: '/v1/infra-test', handler: 'health', auth: 'iam' },
  ],
  queueConsumers: [{ queue: 'd1Requests', handler: 'health', batchSize: 5, maxConcurrency: 2 }],
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
  },
};

interface Synth {
  stack: TokenLifecycleStack;
  /** Optional config-backed env vars this synth left unset (the Lambda applies its default). */
  unset: string[];
  template: Template;
  json: string;
  topology: Topology;
  id: (construct: IConstruct) => string;
}

function synth(topology: Topology, context: Record<string, unknown>, unset: string[] = []): Synth {
  const app = new App(appProps(context));
  const config = loadStackConfig((key) => app.node.tryGetContext(key));
  const stack = new TokenLifecycleStack(app, 'Test', { config, topology });
  const template = Template.fromStack(stack);
  const id = (construct: IConstruct) => stack.resolve(stack.getLogicalId((construct.node.defaultChild ?? construct) as CfnElement)) as string;
  return { stack, unset, template, json: JSON.stringify(template.toJSON()), topology, id };
}

type Resource = { Type: string; Properties: Record<string, any>; DeletionPolicy?: string; UpdateReplacePolicy?: string };
const resources = (s: Synth, type: string) => Object.entries(s.template.findResources(type)) as [string, Resource][];
const getAtt = (logicalId: string, attr = 'Arn') => ({ 'Fn::GetAtt': [logicalId, attr] });
type Statement = { Effect: string; Action: string | string[]; Resource: unknown };
const actionsOf = (st: Statement): string[] => [st.Action].flat();
/** `rate(5 minutes)`, `rate(1 hour)`, `rate(1 day)` → minutes (CDK writes a whole number of the largest unit). */
const rateMinutesOf = (expression: string): number => {
  const match = /^rate\((\d+) (minute|hour|day)s?\)$/.exec(expression);
  if (!match) throw new Error(`not a rate expression: ${expression}`);
  return Number(match[1]) * { minute: 1, hour: 60, day: 1440 }[match[2] as 'minute' | 'hour' | 'day'];
};
/** What a scheduled run may take: its interval, at most Lambda's 15 minutes. */
const scheduledTimeout = (rateMinutes: number) => Math.min(900, rateMinutes * 60);
/** Every statement granted to a function's role: its policies plus any inline ones on the role itself. */
const roleStatements = (s: Synth, fn: IFunction): Statement[] => {
  const roleId = s.id(fn.role!);
  const inline = (s.template.toJSON().Resources[roleId].Properties.Policies ?? []) as { PolicyDocument: { Statement: Statement[] } }[];
  const attached = resources(s, 'AWS::IAM::Policy').filter(([, p]) => p.Properties.Roles.some((r: any) => r.Ref === roleId));
  return [...inline, ...attached.map(([, p]) => p.Properties)].flatMap((p) => p.PolicyDocument.Statement);
};

/**
 * A DashboardBody (`Fn::Join` of JSON text and tokens) as the dashboard JSON, each token rendered as
 * `${LogicalId}` or `${LogicalId.Attribute}` inside its string.
 */
const dashboardBody = (body: any): { widgets: { type: string; properties: Record<string, any> }[] } => {
  const parts: unknown[] = body['Fn::Join'][1];
  const render = (p: any): string => (typeof p === 'string' ? p : p.Ref ? `\${${p.Ref}}` : `\${${p['Fn::GetAtt'].join('.')}}`);
  return JSON.parse(parts.map(render).join(''));
};

let service: Synth;
let extended: Synth;
const saved: Record<string, string | undefined> = {};

beforeAll(() => {
  for (const key of ALL_SECRET_KEYS) {
    saved[key] = process.env[key];
    process.env[key] = SENTINEL_VALUES[key];
  }
  // Every secret generated, no optional secret, no custom domain.
  service = synth(SERVICE_TOPOLOGY, STRAY_CONTEXT, ['HISTORY_RETENTION_DAYS']);
  // Imported secrets, the client identity toward D1, the mTLS webhook domain, an alarm topic.
  extended = synth(EXTENDED, {
    ...STRAY_CONTEXT,
    trApiKeySecret: IMPORTED_ARN,
    d1CofApiKeySecret: 'token-lifecycle/d1-cof-api-key',
    ...CLIENT_IDENTITY,
    ...WEBHOOK_DOMAIN,
    alarmTopicArn: ALARM_TOPIC,
    historyRetentionDays: 400,
  });
});
afterAll(() => {
  fs.rmSync(OUT, { recursive: true, force: true });
  for (const key of ALL_SECRET_KEYS) {
    if (saved[key] === undefined) delete process.env[key];
    else process.env[key] = saved[key];
  }
});
const CASES: [string, () => Synth][] = [
  ['service topology', () => service],
  ['extended topology', () => extended],
];

describe.each(CASES)('%s', (_name, get) => {
  test('table: pk/sk, GSI projecting keys + issuerCardRefId only, no LSI, TTL, on-demand, PITR, deletion protection, RETAIN', () => {
    const s = get();
    const tables = resources(s, 'AWS::DynamoDB::GlobalTable');
    expect(tables).toHaveLength(1);
    const [, table] = tables[0]!;
    const p = table.Properties;
    expect(table.DeletionPolicy).toBe('Retain');
    expect(table.UpdateReplacePolicy).toBe('Retain');
    expect(p.BillingMode).toBe('PAY_PER_REQUEST');
    expect(p.KeySchema).toEqual([
      { AttributeName: TABLE.partitionKey, KeyType: 'HASH' },
      { AttributeName: TABLE.sortKey, KeyType: 'RANGE' },
    ]);
    expect(p.GlobalSecondaryIndexes).toEqual(
      TABLE.globalIndexes.map((g) => ({
        IndexName: g.name,
        KeySchema: [{ AttributeName: g.partitionKey, KeyType: 'HASH' }, { AttributeName: g.sortKey, KeyType: 'RANGE' }],
        // Nothing a token or operation write changes is projected, so state changes do not rewrite the index.
        Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['issuerCardRefId'] },
      })),
    );
    expect(p.LocalSecondaryIndexes).toBeUndefined();
    // The history order is an attribute, not an index key.
    expect((p.AttributeDefinitions as Array<{ AttributeName: string }>).map((a) => a.AttributeName).sort()).toEqual(
      [TABLE.partitionKey, TABLE.sortKey, ...TABLE.globalIndexes.flatMap((g) => [g.partitionKey, g.sortKey])].sort(),
    );
    expect(p.TimeToLiveSpecification).toEqual({ AttributeName: TABLE.ttlAttribute, Enabled: true });
    expect(p.Replicas).toHaveLength(1);
    expect(p.Replicas[0]).toMatchObject({ DeletionProtectionEnabled: true, PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } });
  });

  test('queues: each redrives to its own DLQ with maxReceiveCount; visibility 6 × consumer timeout; SSE; DLQ kept 14 days', () => {
    const s = get();
    expect(resources(s, 'AWS::SQS::Queue')).toHaveLength(2 * Object.keys(QUEUES).length);
    for (const key of Object.keys(QUEUES) as QueueKey[]) {
      const { queue, dlq } = s.stack.queues.byKey[key];
      const props = s.template.toJSON().Resources[s.id(queue)].Properties;
      expect(props).toMatchObject({
        RedrivePolicy: { deadLetterTargetArn: getAtt(s.id(dlq)), maxReceiveCount: QUEUES[key].maxReceiveCount },
        VisibilityTimeout: 6 * QUEUES[key].consumerTimeoutSeconds,
        SqsManagedSseEnabled: true,
      });
      expect(s.template.toJSON().Resources[s.id(dlq)].Properties).toEqual({ MessageRetentionPeriod: 14 * 24 * 3600, SqsManagedSseEnabled: true });
    }
  });

  test('queues: every queue and DLQ denies requests without TLS (enforceSSL)', () => {
    const s = get();
    const sslDenied = resources(s, 'AWS::SQS::QueuePolicy').flatMap(([, policy]) =>
      policy.Properties.PolicyDocument.Statement.filter(
        (st: any) => st.Effect === 'Deny' && st.Condition?.Bool?.['aws:SecureTransport'] === 'false',
      ).flatMap(() => policy.Properties.Queues.map((q: any) => q.Ref as string)),
    );
    const all = resources(s, 'AWS::SQS::Queue').map(([id]) => id);
    expect(sslDenied.sort()).toEqual(all.sort());
  });

  test('queue consumers: one event source mapping each, ReportBatchItemFailures, batch size and max concurrency', () => {
    const s = get();
    const mappings = resources(s, 'AWS::Lambda::EventSourceMapping');
    expect(mappings).toHaveLength(s.topology.queueConsumers.length);
    for (const [, mapping] of mappings) expect(mapping.Properties.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
    for (const consumer of s.topology.queueConsumers) {
      const fnId = s.id(s.stack.functions.forApi(consumer.handler, 'backoffice'));
      const match = mappings.filter(([, m]) => m.Properties.FunctionName.Ref === fnId);
      expect(match.map(([, m]) => m.Properties)).toContainEqual(
        expect.objectContaining({
          EventSourceArn: getAtt(s.id(s.stack.queues.byKey[consumer.queue].queue)),
          BatchSize: consumer.batchSize,
          ScalingConfig: { MaximumConcurrency: consumer.maxConcurrency },
        }),
      );
    }
  });

  test('routes: one per HTTP_ROUTES entry on its API, plus $default on each API; iam routes use AWS_IAM', () => {
    const s = get();
    const routes = resources(s, 'AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties);
    expect(routes).toHaveLength(s.topology.httpRoutes.length + API_NAMES.length);
    for (const route of s.topology.httpRoutes) {
      const apiId = s.id(s.stack.api.apis[route.api]);
      const found = routes.filter((r) => r.RouteKey === routeKey(route) && r.ApiId.Ref === apiId);
      expect(found).toHaveLength(1);
      expect(found[0]!.AuthorizationType).toBe(route.auth === 'iam' ? 'AWS_IAM' : 'NONE');
    }
    for (const api of API_NAMES) {
      expect(routes.filter((r) => r.RouteKey === '$default' && r.ApiId.Ref === s.id(s.stack.api.apis[api]))).toHaveLength(1);
    }
  });

  test('$default of each API goes to a fallback Lambda that knows its API (API_NAME)', () => {
    const s = get();
    const json = s.template.toJSON().Resources;
    for (const api of API_NAMES) {
      const [, route] = resources(s, 'AWS::ApiGatewayV2::Route').find(
        ([, r]) => r.Properties.RouteKey === '$default' && r.Properties.ApiId.Ref === s.id(s.stack.api.apis[api]),
      )!;
      const integrationId = route.Properties.Target['Fn::Join'][1][1].Ref as string;
      const fnId = json[integrationId].Properties.IntegrationUri['Fn::GetAtt'][0] as string;
      expect(json[fnId].Properties.Environment.Variables.API_NAME).toBe(api);
    }
  });

  test('stages: $default, auto-deployed, JSON access logs, throttled; both URLs are outputs', () => {
    const s = get();
    const stages = resources(s, 'AWS::ApiGatewayV2::Stage').map(([, st]) => st.Properties);
    expect(stages).toHaveLength(API_NAMES.length);
    for (const stage of stages) {
      expect(stage).toMatchObject({ StageName: '$default', AutoDeploy: true, DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 } });
      expect(JSON.parse(stage.AccessLogSettings.Format)).toMatchObject({ requestId: '$context.requestId', status: '$context.status' });
    }
    expect(Object.keys(s.template.toJSON().Outputs)).toEqual(expect.arrayContaining(['BackofficeApiUrl', 'WebhooksApiUrl']));
  });

  test('functions: exactly the referenced handlers, arm64 nodejs24.x, X-Ray, own log group, memory and timeout', () => {
    const s = get();
    const fns = resources(s, 'AWS::Lambda::Function');
    const plans = planFunctions(s.topology);
    expect(fns).toHaveLength(plans.length);
    for (const [, fn] of fns) {
      expect(fn.Properties).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'], Handler: 'index.handler', TracingConfig: { Mode: 'Active' } });
      expect(fn.Properties.LoggingConfig.LogGroup).toBeDefined();
      expect(fn.Properties.Environment.Variables).toMatchObject({ NODE_OPTIONS: '--enable-source-maps', POWERTOOLS_SERVICE_NAME: 'token-lifecycle', LOG_LEVEL: 'INFO' });
    }
    for (const plan of plans) {
      const props = s.template.toJSON().Resources[s.id(s.stack.functions.forApi(plan.handler, plan.api ?? 'backoffice'))].Properties;
      expect(props.MemorySize).toBe(s.topology.handlers[plan.handler].memoryMb ?? 256);
      const queueTimeouts = plan.consumes.map((c) => QUEUES[c.queue].consumerTimeoutSeconds);
      expect(props.Timeout).toBe(Math.max(...queueTimeouts, ...plan.schedules.map((x) => scheduledTimeout(x.rateMinutes)), plan.http ? 10 : 0));
    }
  });

  test('env: each variable a handler declares is wired from its resource; secrets only as <KEY>_SECRET_ARN', () => {
    const s = get();
    const json = s.template.toJSON().Resources;
    for (const plan of planFunctions(s.topology)) {
      const vars = json[s.id(s.stack.functions.forApi(plan.handler, plan.api ?? 'backoffice'))].Properties.Environment.Variables;
      for (const key of s.topology.handlers[plan.handler].env) {
        if ((SECRET_ENV_KEYS as readonly string[]).includes(key)) {
          expect(vars[key]).toBeUndefined();
          expect(vars[`${key}_SECRET_ARN`]).toBeDefined();
        } else if ((OPTIONAL_SECRET_ENV_KEYS as readonly string[]).includes(key)) {
          // Wired when configured, absent (no var at all) otherwise; never the value.
          expect(vars[key]).toBeUndefined();
          expect(vars[`${key}_SECRET_ARN`] !== undefined).toBe(s.stack.secrets.optional[key as OptionalSecretEnvKey] !== undefined);
        } else if (key === 'DATA_KEY') {
          // The local stand-in for the KMS key: declared by the credentials Lambda, never given a value in AWS.
          expect(vars[key]).toBeUndefined();
          expect(vars.DATA_KEY_KMS_KEY_ARN).toBeDefined();
        } else if (!s.unset.includes(key)) expect(vars[key]).toBeDefined();
      }
      if (vars.TABLE_NAME) expect(vars.TABLE_NAME).toEqual({ Ref: s.id(s.stack.tables.table) });
    }
  });

  test('IAM: no statement has a wildcard action; Resource "*" only for the X-Ray actions', () => {
    const s = get();
    const statements = [
      ...resources(s, 'AWS::IAM::Policy').flatMap(([, p]) => p.Properties.PolicyDocument.Statement),
      ...resources(s, 'AWS::IAM::Role').flatMap(([, r]) => (r.Properties.Policies ?? []).flatMap((p: any) => p.PolicyDocument.Statement)),
      ...resources(s, 'AWS::IAM::ManagedPolicy').flatMap(([, p]) => p.Properties.PolicyDocument.Statement),
    ];
    expect(statements.length).toBeGreaterThan(0);
    // The one managed policy is the DLQ operator's (attached to nothing); its statements are checked below too.
    expect(resources(s, 'AWS::IAM::ManagedPolicy').map(([id]) => id)).toEqual([s.id(s.stack.dlqOperator.policy)]);
    for (const st of statements) {
      for (const action of [st.Action].flat()) expect(action).not.toContain('*');
      if ([st.Resource].flat().includes('*')) expect([st.Action].flat().sort()).toEqual(['xray:PutTelemetryRecords', 'xray:PutTraceSegments']);
    }
    for (const [, role] of resources(s, 'AWS::IAM::Role')) expect(role.Properties.ManagedPolicyArns).toBeUndefined();
  });

  test('secrets: no value in the template (sentinels, PEM and APIKEY markers), generated secrets have no SecretString', () => {
    const s = get();
    for (const marker of SECRET_MARKERS) expect({ marker, found: s.json.includes(marker) }).toEqual({ marker, found: false });
    for (const [, secret] of resources(s, 'AWS::SecretsManager::Secret')) {
      expect(secret.Properties.SecretString).toBeUndefined();
      expect(secret.Properties.GenerateSecretString).toBeDefined();
    }
    // Secrets reach functions as <KEY>_SECRET_ARN only; no env var is named after a secret itself.
    for (const [, fn] of resources(s, 'AWS::Lambda::Function')) {
      const names = Object.keys(fn.Properties.Environment.Variables);
      expect(names.filter((n) => (ALL_SECRET_KEYS as readonly string[]).includes(n))).toEqual([]);
    }
  });

  test('dashboard: API latency p50/p99 and IntegrationLatency per stage, every service metric, each DLQ, Lambda errors/throttles, all alarms', () => {
    const s = get();
    const dashboards = resources(s, 'AWS::CloudWatch::Dashboard');
    expect(dashboards).toHaveLength(1);
    const [dashboardId, dashboard] = dashboards[0]!;
    const body = dashboardBody(dashboard.Properties.DashboardBody);
    const series = body.widgets.flatMap((w) => (w.type === 'metric' ? (w.properties.metrics as unknown[][]) : []));
    /** `[namespace, name, dim, value, …, {stat, …}]` → "namespace name dim=value … stat". */
    const lines = series.map((m) => {
      const options = (typeof m.at(-1) === 'object' ? m.at(-1) : {}) as { stat?: string };
      const fields = m.filter((x) => typeof x === 'string') as string[];
      const dims = [];
      for (let i = 2; i + 1 < fields.length; i += 2) dims.push(`${fields[i]}=${fields[i + 1]}`);
      return [fields[0], fields[1], ...dims, options.stat].join(' ');
    });
    // Each DLQ's depth, by its queue name.
    for (const key of Object.keys(QUEUES) as QueueKey[]) {
      expect(lines).toContain(`AWS/SQS ApproximateNumberOfMessagesVisible QueueName=\${${s.id(s.stack.queues.byKey[key].dlq)}.QueueName} Maximum`);
    }
    // Every business metric in our namespace with the Powertools service dimension (the key ones from the brief too).
    expect(Object.keys(DASHBOARD_PANEL_OF).sort()).toEqual([...SERVICE_METRICS].sort());
    const key = ['CallbacksApplied', 'CallbacksDuplicate', 'CallbacksSuperseded', 'CallbacksFailed', 'CallbacksIgnored', 'D1Attempts', 'D1Retries',
      'D1Unavailable', 'OperationsRejectedByD1', 'TokenUpdatesApplied', 'TokenUpdatesDuplicate', 'TokenUpdatesStale', 'ReconciliationCorrections',
      'OperationsSettledByReconciliation', 'ReconciliationFailures'];
    for (const name of [...key, ...SERVICE_METRICS]) expect(lines).toContain(`${METRICS_NAMESPACE} ${name} service=${SERVICE_NAME} Sum`);
    // Latency and IntegrationLatency, p50 and p99, on each API's $default stage.
    for (const api of API_NAMES) {
      for (const metric of ['Latency', 'IntegrationLatency']) {
        for (const stat of ['p50', 'p99']) expect(lines).toContain(`AWS/ApiGateway ${metric} ApiId=\${${s.id(s.stack.api.apis[api])}} Stage=$default ${stat}`);
      }
    }
    // Errors and Throttles of every function.
    for (const { fn } of s.stack.functions.all) {
      for (const metric of ['Errors', 'Throttles']) expect(lines).toContain(`AWS/Lambda ${metric} FunctionName=\${${s.id(fn)}} Sum`);
    }
    // Every alarm on the alarm-status widget.
    const alarmWidgets = body.widgets.filter((w) => w.type === 'alarm');
    expect(alarmWidgets).toHaveLength(1);
    expect([...alarmWidgets[0]!.properties.alarms].sort()).toEqual(resources(s, 'AWS::CloudWatch::Alarm').map(([id]) => `\${${id}.Arn}`).sort());
    expect(s.template.toJSON().Outputs.DashboardName.Value).toEqual({ Ref: dashboardId });
  });

  test('alarms: one per DLQ on visible messages, one per function on Errors, missing data not breaching', () => {
    const s = get();
    const alarms = resources(s, 'AWS::CloudWatch::Alarm').map(([, a]) => a.Properties);
    for (const alarm of alarms) {
      expect(alarm).toMatchObject({ TreatMissingData: 'notBreaching', ComparisonOperator: 'GreaterThanOrEqualToThreshold', Threshold: 1, EvaluationPeriods: 1 });
    }
    for (const key of Object.keys(QUEUES) as QueueKey[]) {
      const dlqAlarms = alarms.filter(
        (a) => a.MetricName === 'ApproximateNumberOfMessagesVisible' && a.Dimensions[0].Value['Fn::GetAtt'][0] === s.id(s.stack.queues.byKey[key].dlq),
      );
      expect(dlqAlarms).toHaveLength(1);
    }
    const errorAlarms = alarms.filter((a) => a.Namespace === 'AWS/Lambda' && a.MetricName === 'Errors').map((a) => a.Dimensions[0].Value.Ref);
    expect(errorAlarms.sort()).toEqual(resources(s, 'AWS::Lambda::Function').map(([id]) => id).sort());
    const metricAlarms = alarms.filter((a) => a.Namespace === METRICS_NAMESPACE);
    expect(metricAlarms.map((a) => a.MetricName).sort()).toEqual(Object.keys(METRIC_ALARMS).sort());
    expect(alarms).toHaveLength(Object.keys(QUEUES).length + errorAlarms.length + metricAlarms.length);
  });

  test('IAM: each function may send to exactly its sendsTo queues and consume exactly the queues it consumes', () => {
    const s = get();
    const queueArn = (key: QueueKey) => getAtt(s.id(s.stack.queues.byKey[key].queue));
    for (const { plan, fn } of s.stack.functions.all) {
      const statements = roleStatements(s, fn);
      const onQueues = (action: string) => statements.filter((st) => actionsOf(st).includes(action)).flatMap((st) => [st.Resource].flat());
      const consumed = [...new Set(plan.consumes.map((c) => c.queue))];
      expect({ fn: plan.id, send: onQueues('sqs:SendMessage') }).toEqual({ fn: plan.id, send: s.topology.handlers[plan.handler].sendsTo.map(queueArn) });
      expect({ fn: plan.id, receive: onQueues('sqs:ReceiveMessage') }).toEqual({ fn: plan.id, receive: consumed.map(queueArn) });
      expect({ fn: plan.id, delete: onQueues('sqs:DeleteMessage') }).toEqual({ fn: plan.id, delete: consumed.map(queueArn) });
    }
  });
});

describe.each(CASES)('%s: schedules, secrets, KMS', (_name, get) => {
  test('schedules: one rule per entry, rate(n minutes), targeting its function (retry 2, max age 1 h); async retries off', () => {
    const s = get();
    const rules = resources(s, 'AWS::Events::Rule');
    expect(rules).toHaveLength(s.topology.schedules.length);
    const permissions = resources(s, 'AWS::Lambda::Permission').filter(([, p]) => p.Properties.Principal === 'events.amazonaws.com');
    expect(permissions).toHaveLength(s.topology.schedules.length);
    for (const schedule of s.topology.schedules) {
      const fnId = s.id(s.stack.functions.forApi(schedule.handler, 'backoffice'));
      const found = rules.filter(
        ([, r]) => rateMinutesOf(r.Properties.ScheduleExpression) === schedule.rateMinutes && r.Properties.Targets[0].Arn['Fn::GetAtt'][0] === fnId,
      );
      expect(found).toHaveLength(1);
      const [ruleId, rule] = found[0]!;
      expect(rule.Properties.State).toBe('ENABLED');
      expect(rule.Properties.Targets).toEqual([
        { Arn: getAtt(fnId), Id: 'Target0', RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 3600 } },
      ]);
      // EventBridge may invoke the function for this rule only.
      expect(permissions.filter(([, p]) => p.Properties.FunctionName['Fn::GetAtt'][0] === fnId).map(([, p]) => p.Properties)).toContainEqual({
        Action: 'lambda:InvokeFunction',
        FunctionName: getAtt(fnId),
        Principal: 'events.amazonaws.com',
        SourceArn: getAtt(ruleId),
      });
    }
    const scheduledFns = [...new Set(s.topology.schedules.map((x) => s.id(s.stack.functions.forApi(x.handler, 'backoffice'))))];
    const invokeConfigs = resources(s, 'AWS::Lambda::EventInvokeConfig').map(([, c]) => c.Properties);
    expect(invokeConfigs.map((c) => c.FunctionName.Ref).sort()).toEqual(scheduledFns.sort());
    for (const config of invokeConfigs) expect(config).toMatchObject({ MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 3600 });
  });

  test('IAM: GetSecretValue only, one statement per secret the function\'s env lists (optional ones when configured); none for the others', () => {
    const s = get();
    const configured = [...SECRET_ENV_KEYS, ...OPTIONAL_SECRET_ENV_KEYS.filter((k) => s.stack.secrets.optional[k])] as readonly string[];
    for (const { plan, fn } of s.stack.functions.all) {
      const listed = s.topology.handlers[plan.handler].env.filter((k) => configured.includes(k));
      const statements = roleStatements(s, fn).filter((st) => actionsOf(st).some((a) => a.startsWith('secretsmanager:')));
      expect({ fn: plan.id, statements: statements.length }).toEqual({ fn: plan.id, statements: listed.length });
      for (const st of statements) expect(actionsOf(st)).toEqual(['secretsmanager:GetSecretValue']);
    }
  });

  test('KMS: the token-PAN key rotates, is retained, has its alias; only functions listing DATA_KEY_KMS_KEY_ARN may use it', () => {
    const s = get();
    const keys = resources(s, 'AWS::KMS::Key');
    expect(keys).toHaveLength(1);
    const [keyId, key] = keys[0]!;
    expect(key).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain', Properties: { EnableKeyRotation: true } });
    // CDK's default key policy: the account's IAM decides, so the role policies below are the whole story.
    expect(key.Properties.KeyPolicy.Statement).toHaveLength(1);
    expect(key.Properties.KeyPolicy.Statement[0].Principal.AWS['Fn::Join'][1]).toContain(':root');
    expect(resources(s, 'AWS::KMS::Alias').map(([, a]) => a.Properties)).toEqual([{ AliasName: 'alias/token-lifecycle/token-pan', TargetKeyId: getAtt(keyId) }]);
    const json = s.template.toJSON().Resources;
    for (const { plan, fn } of s.stack.functions.all) {
      const uses = s.topology.handlers[plan.handler].env.includes('DATA_KEY_KMS_KEY_ARN');
      const kms = roleStatements(s, fn).filter((st) => actionsOf(st).some((a) => a.startsWith('kms:')));
      expect({ fn: plan.id, kms }).toEqual({
        fn: plan.id,
        kms: uses ? [{ Effect: 'Allow', Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:GenerateDataKey'], Resource: getAtt(keyId) }] : [],
      });
      expect(json[s.id(fn)].Properties.Environment.Variables.DATA_KEY_KMS_KEY_ARN).toEqual(uses ? getAtt(keyId) : undefined);
    }
  });
});

describe('service topology: network tokens, token updates and reconciliation', () => {
  const fnOf = (handler: HandlerName) => service.stack.functions.forApi(handler, 'backoffice');
  const routeTo = (key: string) => {
    const json = service.template.toJSON().Resources;
    const routes = resources(service, 'AWS::ApiGatewayV2::Route').filter(([, r]) => r.Properties.RouteKey === key);
    expect(routes).toHaveLength(1);
    const [, route] = routes[0]!;
    const integrationId = route.Properties.Target['Fn::Join'][1][1].Ref as string;
    return { route: route.Properties, fnId: json[integrationId].Properties.IntegrationUri['Fn::GetAtt'][0] as string };
  };
  /** Which functions may read each secret, from their role policies. */
  const secretReaders = (): Record<SecretEnvKey, string[]> => {
    const readers = Object.fromEntries(SECRET_ENV_KEYS.map((k) => [k, [] as string[]])) as Record<SecretEnvKey, string[]>;
    for (const { plan, fn } of service.stack.functions.all) {
      const read = roleStatements(service, fn).filter((st) => actionsOf(st).includes('secretsmanager:GetSecretValue')).map((st) => JSON.stringify(st.Resource));
      for (const key of SECRET_ENV_KEYS) {
        if (read.includes(JSON.stringify({ Ref: service.id(service.stack.secrets.byKey[key].secret) }))) readers[key].push(plan.handler);
      }
    }
    return readers;
  };

  test('reconcile-sweep: listed only in SCHEDULES, still a Lambda; every 5 minutes; no route, no queue', () => {
    expect(SCHEDULES).toContainEqual({ handler: 'reconcile-sweep', rateMinutes: 5 });
    const fnId = service.id(fnOf('reconcile-sweep'));
    const [, rule] = resources(service, 'AWS::Events::Rule').find(([, r]) => r.Properties.Targets[0].Arn['Fn::GetAtt'][0] === fnId)!;
    expect(rule.Properties.ScheduleExpression).toBe('rate(5 minutes)');
    expect(service.template.toJSON().Resources[fnId].Properties.Timeout).toBe(300);
    expect(resources(service, 'AWS::Lambda::EventSourceMapping').filter(([, m]) => m.Properties.FunctionName.Ref === fnId)).toHaveLength(0);
    const json = service.template.toJSON().Resources;
    const integrations = resources(service, 'AWS::ApiGatewayV2::Integration').filter(([, i]) => i.Properties.IntegrationUri['Fn::GetAtt'][0] === fnId);
    expect(integrations).toHaveLength(0);
    expect(json[fnId].Properties.Environment.Variables).toMatchObject({ RECONCILE_AFTER_MS: '900000', D1_ISSUER_BASE_URL: expect.any(String) });
  });

  test('POST /v1/cards/{issuerCardRefId}/reconcile: AWS_IAM, to the reconcile Lambda (not the sweep)', () => {
    const { route, fnId } = routeTo('POST /v1/cards/{issuerCardRefId}/reconcile');
    expect(route.AuthorizationType).toBe('AWS_IAM');
    expect(route.ApiId).toEqual({ Ref: service.id(service.stack.api.apis.backoffice) });
    expect(fnId).toBe(service.id(fnOf('reconcile')));
    expect(fnId).not.toBe(service.id(fnOf('reconcile-sweep')));
  });

  test('token-pan and transactions are separate AWS_IAM routes (grantable one by one), both to network-token-credentials', () => {
    const tokenPan = routeTo('GET /v1/network-tokens/{tokenId}/token-pan');
    const transactions = routeTo('POST /v1/network-tokens/{tokenId}/transactions');
    const reads = routeTo('GET /v1/network-tokens/{tokenId}');
    for (const r of [tokenPan, transactions, reads]) {
      expect(r.route.AuthorizationType).toBe('AWS_IAM');
      expect(r.route.ApiId).toEqual({ Ref: service.id(service.stack.api.apis.backoffice) });
    }
    // No greedy path or ANY method could cover both: an execute-api:Invoke grant on one route key stays on it.
    const keys = resources(service, 'AWS::ApiGatewayV2::Route').map(([, r]) => r.Properties.RouteKey as string);
    expect(keys.filter((k) => k.includes('+}') || k.startsWith('ANY '))).toEqual([]);
    expect([tokenPan.fnId, transactions.fnId]).toEqual([service.id(fnOf('network-token-credentials')), service.id(fnOf('network-token-credentials'))]);
    // Plain token reads stay out of the PCI-scoped Lambda.
    expect(reads.fnId).toBe(service.id(fnOf('network-token-queries')));
  });

  test('network-token-credentials is the only function with any kms: action', () => {
    const withKms = service.stack.functions.all
      .filter(({ fn }) => roleStatements(service, fn).some((st) => actionsOf(st).some((a) => a.startsWith('kms:'))))
      .map(({ plan }) => plan.handler);
    expect(withKms).toEqual(['network-token-credentials']);
    const allPolicies = resources(service, 'AWS::IAM::Policy').filter(([, p]) => JSON.stringify(p).includes('"kms:'));
    expect(allPolicies.map(([, p]) => p.Properties.Roles)).toEqual([[{ Ref: service.id(fnOf('network-token-credentials').role!) }]]);
  });

  test('secrets: JWE key and COF API key only for network-token-credentials; TR_API_KEY only for notify-token-update; no raw DATA_KEY in AWS (KMS)', () => {
    expect(secretReaders()).toEqual({
      TR_API_KEY: ['notify-token-update'],
      D1_COF_API_KEY: ['network-token-credentials'],
      TR_JWE_PRIVATE_KEY: ['network-token-credentials'],
    });
    // Stored PANs are sealed under the KMS key: no function gets a raw data key, as a value or as a secret ARN.
    const variables = resources(service, 'AWS::Lambda::Function').flatMap(([, f]) => Object.keys(f.Properties.Environment?.Variables ?? {}));
    expect(variables.filter((v) => v.startsWith('DATA_KEY') && v !== 'DATA_KEY_KMS_KEY_ARN')).toEqual([]);
    expect(resources(service, 'AWS::SecretsManager::Secret')).toHaveLength(SECRET_ENV_KEYS.length);
    const notify = roleStatements(service, fnOf('notify-token-update')).filter((st) => actionsOf(st).some((a) => a.startsWith('secretsmanager:')));
    expect(notify).toEqual([{ Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: { Ref: service.id(service.stack.secrets.byKey.TR_API_KEY.secret) } }]);
    const vars = service.template.toJSON().Resources[service.id(fnOf('notify-token-update'))].Properties.Environment.Variables;
    expect(vars.TR_API_KEY_SECRET_ARN).toEqual({ Ref: service.id(service.stack.secrets.byKey.TR_API_KEY.secret) });
  });

  test('token updates: notify-token-update only sends to token-updates; apply-token-update consumes it', () => {
    const tokenUpdates = getAtt(service.id(service.stack.queues.byKey.tokenUpdates.queue));
    const sends = roleStatements(service, fnOf('notify-token-update')).filter((st) => actionsOf(st).includes('sqs:SendMessage'));
    expect(sends.map((st) => st.Resource)).toEqual([tokenUpdates]);
    const mappings = resources(service, 'AWS::Lambda::EventSourceMapping').filter(([, m]) => m.Properties.FunctionName.Ref === service.id(fnOf('apply-token-update')));
    expect(mappings.map(([, m]) => m.Properties.EventSourceArn)).toEqual([tokenUpdates]);
  });
});

describe('service topology: LCM operations and the D1 submitter', () => {
  const fnId = (handler: 'lcm-operations' | 'd1-submitter') => service.id(service.stack.functions.forApi(handler, 'backoffice'));
  const d1Requests = () => getAtt(service.id(service.stack.queues.byKey.d1Requests.queue));
  const table = () => getAtt(service.id(service.stack.tables.table));
  const tableIndexes = () => ({ 'Fn::Join': ['', [table(), '/index/*']] });

  test.each(['POST /v1/lcm-operations', 'GET /v1/lcm-operations/{operationId}'])('%s: one back-office route, AWS_IAM, to the lcm-operations Lambda', (key) => {
    const json = service.template.toJSON().Resources;
    const routes = resources(service, 'AWS::ApiGatewayV2::Route').filter(([, r]) => r.Properties.RouteKey === key);
    expect(routes).toHaveLength(1);
    const [, route] = routes[0]!;
    expect(route.Properties.ApiId).toEqual({ Ref: service.id(service.stack.api.apis.backoffice) });
    expect(route.Properties.AuthorizationType).toBe('AWS_IAM');
    const integrationId = route.Properties.Target['Fn::Join'][1][1].Ref as string;
    expect(json[integrationId].Properties.IntegrationUri).toEqual(getAtt(fnId('lcm-operations')));
  });

  test('d1-submitter consumes d1-requests: MaximumConcurrency 5, ReportBatchItemFailures', () => {
    const mappings = resources(service, 'AWS::Lambda::EventSourceMapping').filter(([, m]) => m.Properties.FunctionName.Ref === fnId('d1-submitter'));
    expect(mappings).toHaveLength(1);
    expect(mappings[0]![1].Properties).toMatchObject({
      EventSourceArn: d1Requests(),
      ScalingConfig: { MaximumConcurrency: 5 },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  test('d1-submitter: send to and consume d1-requests, read/write the table; nothing else', () => {
    const fn = service.stack.functions.forApi('d1-submitter', 'backoffice');
    const statements = roleStatements(service, fn);
    const logGroup = getAtt(service.id(fn.logGroup));
    for (const st of statements) {
      expect(st.Effect).toBe('Allow');
      const services = new Set(actionsOf(st).map((a) => a.split(':')[0]));
      expect(services.size).toBe(1);
      const [svc] = [...services];
      const expected = { logs: [logGroup], xray: ['*'], dynamodb: [table(), tableIndexes()], sqs: [d1Requests()] }[svc as string];
      expect({ actions: actionsOf(st), resources: [st.Resource].flat() }).toEqual({ actions: actionsOf(st), resources: expected });
    }
    const actions = statements.flatMap(actionsOf);
    expect(actions).toEqual(expect.arrayContaining(['sqs:SendMessage', 'sqs:ReceiveMessage', 'sqs:DeleteMessage', 'dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem']));
  });

  test('lcm-operations: SendMessage on d1-requests only (no other queue, no consuming), read/write the table; nothing else', () => {
    const statements = roleStatements(service, service.stack.functions.forApi('lcm-operations', 'backoffice'));
    const sqs = statements.filter((st) => actionsOf(st).some((a) => a.startsWith('sqs:')));
    expect(sqs.map((st) => st.Resource)).toEqual([d1Requests()]);
    expect(actionsOf(sqs[0]!)).toContain('sqs:SendMessage');
    expect(actionsOf(sqs[0]!)).not.toContain('sqs:ReceiveMessage');
    const services = new Set(statements.flatMap(actionsOf).map((a) => a.split(':')[0]));
    expect([...services].sort()).toEqual(['dynamodb', 'logs', 'sqs', 'xray']);
    for (const st of statements.filter((x) => actionsOf(x).some((a) => a.startsWith('dynamodb:')))) expect([st.Resource].flat()).toEqual([table(), tableIndexes()]);
  });
});

describe('metric alarms', () => {
  test.each(['D1Unavailable', 'CallbackRecordFailures', 'OperationsRejectedByD1', 'RejectedRequests', 'TokenUpdateRecordFailures', 'ReconciliationFailures'])('%s: Sum over 5 min ≥ 1 on the service metric', (metricName) => {
    const alarms = resources(service, 'AWS::CloudWatch::Alarm').filter(([, a]) => a.Properties.MetricName === metricName);
    expect(alarms).toHaveLength(1);
    expect(alarms[0]![1].Properties).toMatchObject({
      Namespace: 'TokenLifecycle',
      Dimensions: [{ Name: 'service', Value: 'token-lifecycle' }],
      Statistic: 'Sum',
      Period: 300,
      EvaluationPeriods: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Threshold: 1,
      TreatMissingData: 'notBreaching',
    });
    expect([METRICS_NAMESPACE, SERVICE_NAME]).toEqual(['TokenLifecycle', 'token-lifecycle']);
  });

  test('every metric name lib/ knows is emitted by the Lambda code (a literal in lambdas/)', () => {
    const root = path.join(__dirname, '..', '..', 'lambdas');
    const sources = (fs.readdirSync(root, { recursive: true }) as string[])
      .filter((f) => f.endsWith('.ts') && !f.startsWith(`local${path.sep}`))
      .map((f) => fs.readFileSync(path.join(root, f), 'utf8'))
      .join('\n');
    const missing = SERVICE_METRICS.filter((name) => !sources.includes(`'${name}'`));
    expect(missing).toEqual([]);
  });
});

describe('configuration-specific wiring', () => {
  test('imported secrets: GetSecretValue on that secret only (complete ARN, or name-?????? for a name)', () => {
    const fnId = extended.id(extended.stack.functions.forApi('health', 'backoffice'));
    const policy = resources(extended, 'AWS::IAM::Policy').find(([, p]) => p.Properties.Roles.some((r: any) => r.Ref.startsWith('FunctionsHealthRole')))!;
    const secretStatements = policy[1].Properties.PolicyDocument.Statement.filter((st: any) => [st.Action].flat().some((a: string) => a.startsWith('secretsmanager:')));
    expect(secretStatements).toHaveLength(2);
    expect(secretStatements[0]).toEqual({ Action: 'secretsmanager:GetSecretValue', Effect: 'Allow', Resource: IMPORTED_ARN });
    expect(JSON.stringify(secretStatements[1].Resource)).toContain(':secret:token-lifecycle/d1-cof-api-key-??????');
    const vars = extended.template.toJSON().Resources[fnId].Properties.Environment.Variables;
    expect(vars.TR_API_KEY_SECRET_ARN).toBe(IMPORTED_ARN);
    // Only the one secret nobody configured (the JWE key) is created.
    expect(resources(extended, 'AWS::SecretsManager::Secret')).toHaveLength(1);
    expect(resources(service, 'AWS::SecretsManager::Secret')).toHaveLength(SECRET_ENV_KEYS.length);
  });


  test('sendsTo grants SendMessage on those queues only', () => {
    const policy = resources(extended, 'AWS::IAM::Policy').find(([, p]) => p.Properties.Roles.some((r: any) => r.Ref.startsWith('FunctionsHealthRole')))!;
    const send = policy[1].Properties.PolicyDocument.Statement.filter((st: any) => [st.Action].flat().includes('sqs:SendMessage'));
    expect(send.map((st: any) => st.Resource)).toEqual([getAtt(extended.id(extended.stack.queues.byKey.issuerCallbacks.queue))]);
  });

  test('alarmTopicArn: every alarm notifies the topic on ALARM and OK; without it, no actions', () => {
    for (const [, alarm] of resources(extended, 'AWS::CloudWatch::Alarm')) {
      expect(alarm.Properties.AlarmActions).toEqual([ALARM_TOPIC]);
      expect(alarm.Properties.OKActions).toEqual([ALARM_TOPIC]);
    }
    for (const [, alarm] of resources(service, 'AWS::CloudWatch::Alarm')) expect(alarm.Properties.AlarmActions).toBeUndefined();
  });

  test.each([
    ['service', SERVICE_TOPOLOGY],
    ['extended', EXTENDED],
  ])('%s: only handlers referenced by a route, the fallback, a consumer or a schedule become Lambdas', (_name, topology) => {
    const handlers = new Set(planFunctions(topology).map((p) => p.handler));
    const referenced = new Set([
      ...topology.httpRoutes.map((r) => r.handler),
      topology.fallbackHandler,
      ...topology.queueConsumers.map((c) => c.handler),
      ...topology.schedules.map((x) => x.handler),
    ]);
    expect(handlers).toEqual(referenced);
  });

  test('a handler both routed and scheduled is one function: its routes and its rule share it', () => {
    const fn = extended.stack.functions.forApi('reconcile', 'backoffice');
    expect(planFunctions(EXTENDED).filter((p) => p.handler === 'reconcile')).toHaveLength(1);
    const [, rule] = resources(extended, 'AWS::Events::Rule').find(([, r]) => rateMinutesOf(r.Properties.ScheduleExpression) === 60)!;
    expect(rule.Properties.Targets[0].Arn).toEqual(getAtt(extended.id(fn)));
    expect(extended.template.toJSON().Resources[extended.id(fn)].Properties.Timeout).toBe(900);
  });

  test('a bad or duplicate schedule fails synth', () => {
    const withSchedules = (schedules: Topology['schedules']) => () =>
      new TokenLifecycleStack(new App(appProps()), 'Bad', { config: loadStackConfig(() => undefined), topology: { ...SERVICE_TOPOLOGY, schedules } });
    expect(withSchedules([{ handler: 'reconcile-sweep', rateMinutes: 0 }])).toThrow(/rateMinutes must be a whole number/);
    expect(withSchedules([...SCHEDULES, ...SCHEDULES])).toThrow(/duplicate schedule: reconcile-sweep every 5 min/);
  });
});

describe('mTLS client identity toward D1 (optional secrets d1ClientCertSecret / d1ClientKeySecret)', () => {
  const readers = (s: Synth) => s.stack.functions.all.filter(({ plan }) => OPTIONAL_SECRET_ENV_KEYS.some((k) => s.topology.handlers[plan.handler].env.includes(k)));

  test('the service lists them for d1-submitter, reconcile, reconcile-sweep and network-token-credentials', () => {
    expect(readers(service).map(({ plan }) => plan.handler).sort()).toEqual(['d1-submitter', 'network-token-credentials', 'reconcile', 'reconcile-sweep']);
  });

  test('given: exactly the functions whose env lists them get <KEY>_SECRET_ARN and GetSecretValue on that secret only', () => {
    const json = extended.template.toJSON().Resources;
    const certPolicyArn = extended.stack.secrets.optional.D1_CLIENT_CERT!.policyArn;
    const expected = {
      D1_CLIENT_CERT: { grant: JSON.stringify(extended.stack.resolve(certPolicyArn)), env: extended.stack.resolve(extended.stack.secrets.optional.D1_CLIENT_CERT!.secret.secretArn) },
      D1_CLIENT_KEY: { grant: JSON.stringify(CLIENT_KEY_ARN), env: CLIENT_KEY_ARN },
    };
    expect(expected.D1_CLIENT_CERT.grant).toContain(`:secret:${CLIENT_CERT_NAME}-??????`);
    const readerIds = readers(extended).map(({ fn }) => extended.id(fn));
    expect(readerIds.length).toBeGreaterThan(0);
    for (const { plan, fn } of extended.stack.functions.all) {
      const vars = json[extended.id(fn)].Properties.Environment.Variables;
      const grants = roleStatements(extended, fn).filter((st) => actionsOf(st).includes('secretsmanager:GetSecretValue')).map((st) => JSON.stringify(st.Resource));
      for (const key of OPTIONAL_SECRET_ENV_KEYS) {
        const lists = extended.topology.handlers[plan.handler].env.includes(key);
        expect({ fn: plan.id, key, env: vars[`${key}_SECRET_ARN`], granted: grants.includes(expected[key].grant) }).toEqual({
          fn: plan.id,
          key,
          env: lists ? expected[key].env : undefined,
          granted: lists,
        });
      }
    }
    // Imported, never created: the stack makes only the one required secret nobody configured.
    expect(resources(extended, 'AWS::SecretsManager::Secret')).toHaveLength(1);
  });

  test('absent: no env var, no grant, no secret created for them anywhere', () => {
    expect(service.stack.secrets.optional).toEqual({});
    expect(service.json).not.toMatch(/D1_CLIENT_(CERT|KEY)/);
    expect(service.json).not.toMatch(/client-(cert|key)/i);
    expect(resources(service, 'AWS::SecretsManager::Secret')).toHaveLength(SECRET_ENV_KEYS.length);
  });
});

describe('webhook API custom domain with mutual TLS', () => {
  const apiProps = (s: Synth, api: 'backoffice' | 'webhooks') => s.template.toJSON().Resources[s.id(s.stack.api.apis[api])].Properties;

  test('with the props: regional DomainName, TLS 1.2, MutualTlsAuthentication with the truststore (and version)', () => {
    const domains = resources(extended, 'AWS::ApiGatewayV2::DomainName');
    expect(domains).toHaveLength(1);
    expect(domains[0]![1].Properties).toEqual({
      DomainName: 'hooks.example.com',
      DomainNameConfigurations: [{ CertificateArn: CERTIFICATE_ARN, EndpointType: 'REGIONAL', SecurityPolicy: 'TLS_1_2' }],
      MutualTlsAuthentication: { TruststoreUri: WEBHOOK_DOMAIN.webhookTruststoreUri, TruststoreVersion: WEBHOOK_DOMAIN.webhookTruststoreVersion },
    });
  });

  test('with the props: mapped at the root to the webhooks API\'s stage; that API\'s execute-api endpoint is disabled, the back office\'s is not', () => {
    const [domainId] = resources(extended, 'AWS::ApiGatewayV2::DomainName')[0]!;
    const mappings = resources(extended, 'AWS::ApiGatewayV2::ApiMapping').map(([, m]) => m as Resource & { DependsOn?: string[] });
    // The stage is named, not referenced: DependsOn makes CloudFormation create it before the mapping.
    expect(mappings.map((m) => ({ Properties: m.Properties, DependsOn: m.DependsOn }))).toEqual([
      {
        Properties: { ApiId: { Ref: extended.id(extended.stack.api.apis.webhooks) }, DomainName: { Ref: domainId }, Stage: '$default' },
        DependsOn: [extended.id(extended.stack.api.stages.webhooks)],
      },
    ]);
    expect(apiProps(extended, 'webhooks').DisableExecuteApiEndpoint).toBe(true);
    expect(apiProps(extended, 'backoffice').DisableExecuteApiEndpoint).toBeUndefined();
  });

  test('with the props: outputs the regional target for DNS and the domain URL; a rule pins the certificate to the stack region', () => {
    const [domainId] = resources(extended, 'AWS::ApiGatewayV2::DomainName')[0]!;
    const outputs = extended.template.toJSON().Outputs;
    expect(outputs.WebhookDomainTarget.Value).toEqual(getAtt(domainId, 'RegionalDomainName'));
    expect(outputs.WebhookDomainHostedZoneId.Value).toEqual(getAtt(domainId, 'RegionalHostedZoneId'));
    expect(outputs.WebhooksApiUrl.Value).toBe('https://hooks.example.com/');
    const rules = Object.values(extended.template.toJSON().Rules ?? {}) as { Assertions: { Assert: unknown }[] }[];
    expect(rules.flatMap((r) => r.Assertions.map((a) => a.Assert))).toContainEqual({ 'Fn::Equals': ['eu-west-1', { Ref: 'AWS::Region' }] });
  });

  test('without the props: no DomainName, no mapping, no rule of ours; both execute-api endpoints stay enabled', () => {
    expect(resources(service, 'AWS::ApiGatewayV2::DomainName')).toHaveLength(0);
    expect(resources(service, 'AWS::ApiGatewayV2::ApiMapping')).toHaveLength(0);
    for (const api of API_NAMES) expect(apiProps(service, api).DisableExecuteApiEndpoint).toBeUndefined();
    expect(Object.keys(service.template.toJSON().Rules ?? {}).filter((r) => r !== 'CheckBootstrapVersion')).toEqual([]);
    expect(Object.keys(service.template.toJSON().Outputs)).not.toContain('WebhookDomainTarget');
  });

  test('a certificate from another region than a region-bound stack fails synth', () => {
    const app = new App(appProps(WEBHOOK_DOMAIN));
    const config = loadStackConfig((key) => app.node.tryGetContext(key));
    expect(() => new TokenLifecycleStack(app, 'Elsewhere', { config, env: { region: 'us-east-1', account: '123456789012' } })).toThrow(/stack's region us-east-1/);
  });
});

describe('configuration is validated at synth', () => {
  const load = (context: Record<string, unknown>) => () => loadStackConfig((key) => context[key]);

  test('defaults are safe placeholders', () => {
    const config = loadStackConfig(() => undefined);
    expect(config).toMatchObject({ issuerId: 'ISSUER0001', d1TimeoutMs: 5000, d1RetryBaseDelayMs: 1000, d1MaxAttempts: 8, reconcileAfterMs: 900000 });
    expect(new URL(config.d1IssuerBaseUrl).hostname.endsWith('.invalid')).toBe(true);
    expect(config.secrets).toEqual({});
  });

  test('bad values fail naming the context key', () => {
    expect(load({ issuerId: 'SHORT' })).toThrow(/issuerId: must be exactly 10 characters/);
    expect(load({ d1MaxAttempts: 'many' })).toThrow(/d1MaxAttempts/);
    expect(load({ d1CofBaseUrl: 'http://d1.example.com' })).toThrow(/d1CofBaseUrl/);
    expect(load({ trJwePrivateKeySecret: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:partial' })).toThrow(/trJwePrivateKeySecret/);
    expect(load({ d1TimeoutMs: '2000' })().d1TimeoutMs).toBe(2000); // -c values arrive as strings
  });

  test('client certificate and key: both or neither, each a secret ARN or name', () => {
    expect(load({ d1ClientCertSecret: CLIENT_CERT_NAME })).toThrow(/d1ClientCertSecret and d1ClientKeySecret.*or neither/);
    expect(load({ d1ClientKeySecret: CLIENT_KEY_ARN })).toThrow(/d1ClientCertSecret and d1ClientKeySecret.*or neither/);
    expect(load({ ...CLIENT_IDENTITY, d1ClientKeySecret: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:partial' })).toThrow(/d1ClientKeySecret/);
    expect(load(CLIENT_IDENTITY)().optionalSecrets).toEqual({
      D1_CLIENT_CERT: { kind: 'name', value: CLIENT_CERT_NAME },
      D1_CLIENT_KEY: { kind: 'arn', value: CLIENT_KEY_ARN },
    });
    expect(load({})().optionalSecrets).toEqual({});
  });

  test('a secret value pasted where a name/ARN belongs is refused, and the error does not repeat it', () => {
    for (const [key, value] of [
      ['d1ClientKeySecret', PEM_KEY_SENTINEL],
      ['d1ClientCertSecret', PEM_CERT_SENTINEL],
      ['trApiKeySecret', APIKEY_SENTINEL],
      ['trJwePrivateKeySecret', PEM_KEY_SENTINEL],
    ] as const) {
      const context = { ...CLIENT_IDENTITY, [key]: value };
      let message = '';
      try {
        load(context)();
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).toContain(key);
      for (const marker of SECRET_MARKERS) expect(message).not.toContain(marker);
    }
  });

  test('webhook domain: the three keys together, valid values, optional ones only with them', () => {
    const { webhookTruststoreVersion: _version, ...required } = WEBHOOK_DOMAIN;
    expect(load({ webhookDomainName: 'hooks.example.com' })).toThrow(/webhookCertificateArn\/webhookTruststoreUri: required with webhookDomainName/);
    expect(load({ ...required, webhookTruststoreUri: undefined })).toThrow(/webhookTruststoreUri: required/);
    expect(load({ webhookTruststoreVersion: 'v1' })).toThrow(/webhookTruststoreVersion: only meaningful with/);
    expect(load({ ...required, webhookCertificateArn: 'arn:aws:iam::123456789012:server-certificate/x' })).toThrow(/webhookCertificateArn: must be an ACM certificate ARN/);
    expect(load({ ...required, webhookTruststoreUri: 'https://bucket.s3.amazonaws.com/truststore.pem' })).toThrow(/webhookTruststoreUri: must be s3:/);
    expect(load({ ...required, webhookDomainName: 'https://hooks.example.com' })).toThrow(/webhookDomainName: must be a DNS name/);
    expect(load(required)().webhookDomain).toEqual({
      domainName: 'hooks.example.com',
      certificateArn: CERTIFICATE_ARN,
      ownershipCertificateArn: undefined,
      truststore: { bucket: 'issuer-truststores', key: 'thales/d1-client-ca.pem', version: undefined },
    });
    expect(load({})().webhookDomain).toBeUndefined();
  });

  test('a handler needing an env var the stack cannot provide fails synth', () => {
    const topology: Topology = { ...SERVICE_TOPOLOGY, handlers: { ...SERVICE_TOPOLOGY.handlers, health: { env: ['PORT'], table: 'none', sendsTo: [] } } };
    const app = new App(appProps());
    expect(() => new TokenLifecycleStack(app, 'Bad', { config: loadStackConfig(() => undefined), topology })).toThrow(/health: needs env PORT/);
  });
});

describe('cdk-nag AwsSolutions', () => {
  const nagSynth = (app: App) => {
    try {
      app.synth();
      return undefined;
    } catch (error) {
      return error as Error;
    }
  };

  test.each([
    ['service topology', SERVICE_TOPOLOGY],
    ['extended topology', EXTENDED],
  ])('%s: no unacknowledged finding (synth does not throw)', (_name, topology) => {
    const { app } = createApp(appProps({ alarmTopicArn: ALARM_TOPIC, d1CofApiKeySecret: 'token-lifecycle/d1-cof-api-key' }), topology);
    // On failure the message lists every finding with its construct path and full id.
    expect(nagSynth(app)?.message).toBeUndefined();
  });

  test('with the mTLS webhook domain and the client identity toward D1: no unacknowledged finding', () => {
    const { app } = createApp(appProps({ ...WEBHOOK_DOMAIN, ...CLIENT_IDENTITY, webhookOwnershipCertificateArn: CERTIFICATE_ARN }));
    // On failure the message lists every finding with its construct path and full id.
    expect(nagSynth(app)?.message).toBeUndefined();
  });

  test('an unauthenticated back-office route nobody justified fails the check (AwsSolutions-APIG4)', () => {
    const topology: Topology = {
      ...SERVICE_TOPOLOGY,
      httpRoutes: [...SERVICE_TOPOLOGY.httpRoutes, { api: 'backoffice', method: 'GET', path: '/v1/infra-test/open', handler: 'health', auth: 'none' }],
    };
    const error = nagSynth(createApp(appProps(), topology).app);
    expect(error?.name).toBe('ValidationFailed');
    expect(error?.message).toContain('AwsSolutions-APIG4');
    expect(error?.message).toContain('TokenLifecycleStack/Api/BackofficeGETV1InfraTestOpen/Resource');
  });

  test('the check can fail: a queue without DLQ and TLS enforcement in the app makes synth throw ValidationFailed', () => {
    const { app, stack } = createApp(appProps());
    new Queue(stack, 'NonCompliant');
    const error = nagSynth(app);
    expect(error?.name).toBe('ValidationFailed');
    expect(error?.message).toContain('TokenLifecycleStack/NonCompliant/Resource');
    expect(error?.message).toContain('AwsSolutions-SQS3');
    expect(error?.message).toContain('AwsSolutions-SQS4');
  });
});
