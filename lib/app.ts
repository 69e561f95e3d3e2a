import { App, Validations, type AppProps } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { loadStackConfig } from './config';
import { TokenLifecycleStack } from './token-lifecycle-stack';
import type { Topology } from './topology';

export const STACK_ID = 'TokenLifecycleStack';
export const STACK_NAME = 'TokenLifecycle';

/**
 * The CDK app as `cdk synth` builds it (bin/app.ts) and as the infra tests build it: configuration from
 * context, the one stack, and cdk-nag AwsSolutions as a validation plugin (a finding fails synth).
 */
export function createApp(props: AppProps = {}, topology?: Topology): { app: App; stack: TokenLifecycleStack } {
  const app = new App(props);
  const config = loadStackConfig((key) => app.node.tryGetContext(key));
  const stack = new TokenLifecycleStack(app, STACK_ID, {
    stackName: STACK_NAME,
    description: 'token-lifecycle: keeps payment tokens in sync with Thales D1',
    config,
    topology,
  });
  // cdk-nag 3: a plugin of CDK's validation framework; acknowledgments live next to the constructs they cover.
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack };
}
