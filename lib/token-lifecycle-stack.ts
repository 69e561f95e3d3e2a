import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { StackConfig } from './config';
import { Alarms } from './constructs/alarms';
import { Api } from './constructs/api';
import { Functions } from './constructs/functions';
import { Keys } from './constructs/keys';
import { Queues } from './constructs/queues';
import { Schedules } from './constructs/schedules';
import { Secrets } from './constructs/secrets';
import { Tables } from './constructs/tables';
import { SERVICE_TOPOLOGY, type Topology } from './topology';

export interface TokenLifecycleStackProps extends StackProps {
  config: StackConfig;
  /** Defaults to the service's lambdas/topology.ts; tests pass extended copies. */
  topology?: Topology;
}

/** The whole service: one construct per concern, wired from lambdas/topology.ts. */
export class TokenLifecycleStack extends Stack {
  readonly tables: Tables;
  readonly queues: Queues;
  readonly secrets: Secrets;
  readonly keys: Keys;
  readonly functions: Functions;
  readonly api: Api;
  readonly schedules: Schedules;
  readonly alarms: Alarms;

  constructor(scope: Construct, id: string, props: TokenLifecycleStackProps) {
    super(scope, id, props);
    const { config } = props;
    const topology = props.topology ?? SERVICE_TOPOLOGY;

    this.tables = new Tables(this, 'Tables');
    this.queues = new Queues(this, 'Queues');
    this.secrets = new Secrets(this, 'Secrets', config.secrets);
    this.keys = new Keys(this, 'Keys');
    this.functions = new Functions(this, 'Functions', {
      config,
      topology,
      table: this.tables.table,
      queues: this.queues.byKey,
      secrets: this.secrets.byKey,
      keys: this.keys.byEnvVar,
    });
    this.api = new Api(this, 'Api', { config, topology, functions: this.functions });
    this.schedules = new Schedules(this, 'Schedules', { functions: this.functions });
    this.alarms = new Alarms(this, 'Alarms', { queues: this.queues.byKey, functions: this.functions, alarmTopicArn: config.alarmTopicArn });

    new CfnOutput(this, 'BackofficeApiUrl', { value: this.api.stages.backoffice.url, description: 'Back-office API (IAM/SigV4 routes)' });
    new CfnOutput(this, 'WebhooksApiUrl', { value: this.api.stages.webhooks.url, description: 'D1 webhook API' });
    new CfnOutput(this, 'TableName', { value: this.tables.table.tableName });
  }
}
