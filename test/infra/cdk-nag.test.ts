import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { createApp } from '../../lib/app';
import { SERVICE_TOPOLOGY, type Topology } from '../../lib/topology';
import { ALARM_TOPIC, CERTIFICATE_ARN, CLIENT_IDENTITY, EXTENDED, WEBHOOK_DOMAIN, useInfraStacks } from '../support/infra-stack';

/** Infra: cdk-nag AwsSolutions over the app as `cdk synth` builds it. Stacks and helpers: test/support/infra-stack.ts. */
const { appProps } = useInfraStacks();

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

  test('with the operations console: no unacknowledged finding', () => {
    const assets = fs.mkdtempSync(path.join(os.tmpdir(), 'console-assets-'));
    try {
      fs.writeFileSync(path.join(assets, 'index.html'), '<!doctype html><title>console</title>\n');
      const { app } = createApp(appProps({ consoleCognitoDomainPrefix: 'tl-console-nag', alarmTopicArn: ALARM_TOPIC }), undefined, {
        consoleAssetsDir: assets,
      });
      // On failure the message lists every finding with its construct path and full id.
      expect(nagSynth(app)?.message).toBeUndefined();
    } finally {
      fs.rmSync(assets, { recursive: true, force: true });
    }
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
