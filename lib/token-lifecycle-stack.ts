import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { HandlerName } from '../lambdas/topology';
import type { StackConfig } from './config';
import { Alarms } from './constructs/alarms';
import { Api } from './constructs/api';
import { Console } from './constructs/console';
import { Dashboard } from './constructs/dashboard';
import { DlqOperator } from './constructs/dlq-operator';
import { ServiceEventBus } from './constructs/event-bus';
import { Functions } from './constructs/functions';
import { Keys } from './constructs/keys';
import { Queues, streamFailuresName } from './constructs/queues';
import { Schedules } from './constructs/schedules';
import { Secrets } from './constructs/secrets';
import { pascal } from './constructs/naming';
import { Tables } from './constructs/tables';
import { SERVICE_TOPOLOGY, type Topology } from './topology';

export interface TokenLifecycleStackProps extends StackProps {
  config: StackConfig;
  /** Defaults to the service's lambdas/topology.ts; tests pass extended copies. */
  topology?: Topology;
  /**
   * The built operations console (a directory with its index.html): required when `config.console` is set
   * (lib/app.ts builds it), ignored otherwise.
   */
  consoleAssetsDir?: string;
}

/** The whole service: one construct per concern, wired from lambdas/topology.ts. */
export class TokenLifecycleStack extends Stack {
  readonly tables: Tables;
  readonly queues: Queues;
  readonly eventBus: ServiceEventBus;
  readonly secrets: Secrets;
  readonly keys: Keys;
  readonly functions: Functions;
  readonly api: Api;
  readonly schedules: Schedules;
  readonly alarms: Alarms;
  readonly dashboard: Dashboard;
  readonly dlqOperator: DlqOperator;
  /** The operations console, when `config.console` is set. */
  readonly console?: Console;

  constructor(scope: Construct, id: string, props: TokenLifecycleStackProps) {
    super(scope, id, props);
    const { config } = props;
    const topology = props.topology ?? SERVICE_TOPOLOGY;

    this.tables = new Tables(this, 'Tables');
    this.queues = new Queues(this, 'Queues', { tableStreamConsumers: topology.tableStreamConsumers });
    this.eventBus = new ServiceEventBus(this, 'EventBus');
    this.secrets = new Secrets(this, 'Secrets', config.secrets, config.optionalSecrets);
    this.keys = new Keys(this, 'Keys');
    this.functions = new Functions(this, 'Functions', {
      config,
      topology,
      table: this.tables.table,
      queues: this.queues.byKey,
      streamFailures: this.queues.streamFailures,
      eventBus: this.eventBus.bus,
      secrets: this.secrets.byKey,
      optionalSecrets: this.secrets.optional,
      keys: this.keys.byEnvVar,
    });
    this.api = new Api(this, 'Api', { config, topology, functions: this.functions });
    this.schedules = new Schedules(this, 'Schedules', { functions: this.functions });
    this.alarms = new Alarms(this, 'Alarms', {
      queues: this.queues.byKey,
      streamFailures: this.queues.streamFailures,
      functions: this.functions,
      topology,
      alarmTopicArn: config.alarmTopicArn,
    });

    this.dashboard = new Dashboard(this, 'Dashboard', {
      stages: this.api.stages,
      queues: this.queues.byKey,
      streamFailures: this.queues.streamFailures,
      functions: this.functions,
      alarms: this.alarms.alarms,
      d1MaxTps: config.d1MaxTps,
    });

    this.dlqOperator = new DlqOperator(this, 'DlqOperator', {
      queues: Object.values(this.queues.byKey),
      streamFailures: Object.values(this.queues.streamFailures),
    });

    if (config.console) {
      if (!props.consoleAssetsDir) throw new Error('consoleCognitoDomainPrefix is set: the stack needs consoleAssetsDir (the built console)');
      this.console = new Console(this, 'Console', {
        assetsDir: props.consoleAssetsDir,
        cognitoDomainPrefix: config.console.cognitoDomainPrefix,
        backofficeApi: this.api.apis.backoffice,
        backofficeStage: this.api.stages.backoffice,
        apiUrl: this.api.urls.backoffice,
        agentRoleCheckedBy: (['lcm-operations', 'lcm-jobs'] as const).map((h) => this.functions.forApi(h, 'backoffice')),
        logRetentionDays: config.logRetentionDays,
      });
      this.api.allowBrowserOrigin(this.console.origin);
      new CfnOutput(this, 'ConsoleUrl', {
        value: this.console.url,
        description: 'Operations console (sign in with a user of the agents or supervisors group)',
      });
      new CfnOutput(this, 'ConsoleUserPoolId', {
        value: this.console.userPool.userPoolId,
        description: 'Console users: admin-create-user, then admin-add-user-to-group',
      });
      new CfnOutput(this, 'ConsoleAgentsRoleName', { value: this.console.roles.agents.roleName, description: 'IAM role of the agents group' });
    }

    new CfnOutput(this, 'BackofficeApiUrl', { value: this.api.urls.backoffice, description: 'Back-office API (IAM/SigV4 routes)' });
    new CfnOutput(this, 'WebhooksApiUrl', {
      value: this.api.urls.webhooks,
      description: this.api.webhookDomain
        ? 'D1 webhook API: the mutual-TLS custom domain (its execute-api endpoint is disabled)'
        : 'D1 webhook API (no mutual TLS: no custom domain configured)',
    });
    if (this.api.webhookDomain) {
      new CfnOutput(this, 'WebhookDomainTarget', {
        value: this.api.webhookDomain.regionalDomainName,
        description: `Point ${config.webhookDomain!.domainName} here: DNS CNAME, or Route 53 alias with WebhookDomainHostedZoneId`,
      });
      new CfnOutput(this, 'WebhookDomainHostedZoneId', {
        value: this.api.webhookDomain.regionalHostedZoneId,
        description: 'Hosted zone id of the regional endpoint, for a Route 53 alias record',
      });
    }
    new CfnOutput(this, 'DashboardName', { value: this.dashboard.dashboard.dashboardName, description: 'CloudWatch dashboard of the service' });
    new CfnOutput(this, 'TableName', { value: this.tables.table.tableName });
    new CfnOutput(this, 'EventBusName', { value: this.eventBus.bus.eventBusName, description: 'EventBridge bus every published event is put on (DESIGN §8)' });
    new CfnOutput(this, 'EventBusArn', { value: this.eventBus.bus.eventBusArn });
    for (const [handler, failures] of Object.entries(this.queues.streamFailures) as [HandlerName, IQueue][]) {
      new CfnOutput(this, `${pascal(streamFailuresName({ handler }))}QueueUrl`, {
        value: failures.queueUrl,
        description: `What ${handler} gave up on in the table's stream (shard and sequence numbers): docs/operations.md`,
      });
    }
    new CfnOutput(this, 'DlqOperatorPolicyArn', {
      value: this.dlqOperator.policy.managedPolicyArn,
      description: "Managed policy with what npm run dlq needs on this stack's queues: attach it to the operator role",
    });
  }
}
