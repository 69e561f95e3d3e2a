import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Validations, type AppProps } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { buildConsoleSync } from '../console/build';
import { loadStackConfig } from './config';
import { TokenLifecycleStack } from './token-lifecycle-stack';
import type { Topology } from './topology';

export const STACK_ID = 'TokenLifecycleStack';
export const STACK_NAME = 'TokenLifecycle';

/**
 * The built operations console for the stack's BucketDeployment: a fresh directory with index.html and its assets
 * (console/build.ts; esbuild only, so synth stays offline).
 */
export function buildConsoleAssets(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'console-'));
  buildConsoleSync(dir);
  return dir;
}

export interface CreateAppOptions {
  /** The built console, when the tests bring their own; otherwise built by `buildConsoleAssets` if the console is on. */
  consoleAssetsDir?: string;
}

/**
 * The CDK app as `cdk synth` builds it (bin/app.ts) and as the infra tests build it: configuration from
 * context, the one stack, and cdk-nag AwsSolutions as a validation plugin (a finding fails synth).
 */
export function createApp(props: AppProps = {}, topology?: Topology, options: CreateAppOptions = {}): { app: App; stack: TokenLifecycleStack } {
  const app = new App(props);
  const config = loadStackConfig((key) => app.node.tryGetContext(key));
  // Built only when the console is deployed (context consoleCognitoDomainPrefix).
  const consoleAssetsDir = config.console ? (options.consoleAssetsDir ?? buildConsoleAssets()) : undefined;
  const stack = new TokenLifecycleStack(app, STACK_ID, {
    stackName: STACK_NAME,
    description: 'token-lifecycle: keeps payment tokens in sync with Thales D1',
    config,
    topology,
    consoleAssetsDir,
  });
  // cdk-nag 3: a plugin of CDK's validation framework; acknowledgments live next to the constructs they cover.
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack };
}
