import * as path from 'node:path';
import { Duration, Validations } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat, type BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { BuildOptions } from 'esbuild';
import type { HandlerName } from '../../lambdas/topology';

const REPO_ROOT = path.join(import.meta.dirname, '..', '..');

/** `lambdas/handlers/<name>.ts`, exporting `handler`: the same module the local gateway and pollers import. */
/** The Lambda runtime; `npm start`, the tests and the bench run the same Node major (the `node` dev dependency). */
export const LAMBDA_NODE_MAJOR = 24;
export const LAMBDA_RUNTIME = Runtime.NODEJS_24_X;

export const handlerEntry = (name: HandlerName): string => path.join(REPO_ROOT, 'lambdas', 'handlers', `${name}.ts`);

/**
 * How every Lambda is bundled (NodejsFunction `bundling`), in one place: the construct passes it to CDK, and the
 * bench (bench/bundles.ts) builds the same bundles from it through `lambdaBuildOptions`.
 *
 * - Minified ESM with the AWS SDK bundled (`bundleAwsSDK`): measured faster cold starts than the runtime's copy,
 *   and the SDK version is the one the tests ran against. No `externalModules`: it would win.
 */
export const LAMBDA_BUNDLING = {
  format: OutputFormat.ESM,
  target: `node${LAMBDA_NODE_MAJOR}`,
  minify: true,
  sourceMap: true,
  // Mappings are enough for readable stack traces; embedding the sources would only grow the asset.
  sourcesContent: false,
  mainFields: ['module', 'main'],
  // Some CJS dependencies call require() for Node built-ins; ESM output has no require of its own.
  banner: "import { createRequire } from 'module';const require = createRequire(import.meta.url);",
  bundleAwsSDK: true,
} satisfies BundlingOptions;

/**
 * `LAMBDA_BUNDLING` as esbuild's JS API options: the flags aws-cdk-lib's NodejsFunction passes to esbuild for it
 * (aws-lambda-nodejs `Bundling.buildEsbuildArgs`: `--bundle --platform=node`, target, format, minify, sourcemap,
 * sources-content, main-fields, banner; nothing external with `bundleAwsSDK`). The caller adds the entry point
 * and the output file (`index.mjs` in CDK's asset).
 */
export function lambdaBuildOptions(bundling: typeof LAMBDA_BUNDLING = LAMBDA_BUNDLING): BuildOptions {
  return {
    bundle: true,
    platform: 'node',
    format: bundling.format === OutputFormat.ESM ? 'esm' : 'cjs',
    target: bundling.target,
    minify: bundling.minify,
    sourcemap: bundling.sourceMap,
    sourcesContent: bundling.sourcesContent,
    mainFields: bundling.mainFields,
    banner: { js: bundling.banner },
    external: bundling.bundleAwsSDK ? [] : ['@aws-sdk/*'],
  };
}

export interface ServiceFunctionProps {
  handlerName: HandlerName;
  description: string;
  memoryMb: number;
  timeout: Duration;
  environment: Record<string, string>;
  logRetention: RetentionDays;
}

/**
 * A Lambda with the house defaults pinned, so every function of the service is built the same way.
 *
 * - Node.js 24 on arm64: cdk-nag AwsSolutions-L1 requires the latest Node.js runtime, and 24.x is the latest
 *   aws-cdk-lib 2.276 knows (pinned rather than NODEJS_LATEST so a CDK upgrade cannot change it silently).
 * - Bundled by `LAMBDA_BUNDLING` (minified ESM, AWS SDK bundled).
 * - Its own log group with a retention, and its own role that may write only to that log group, instead of
 *   the AWSLambdaBasicExecutionRole managed policy (logs:CreateLogGroup/PutLogEvents on `*`).
 */
export class ServiceFunction extends NodejsFunction {
  constructor(scope: Construct, id: string, props: ServiceFunctionProps) {
    const logGroup = new LogGroup(scope, `${id}Logs`, { retention: props.logRetention });
    const role = new Role(scope, `${id}Role`, {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of the ${props.handlerName} Lambda`,
    });
    logGroup.grantWrite(role);
    super(scope, id, {
      entry: handlerEntry(props.handlerName),
      handler: 'handler',
      projectRoot: REPO_ROOT,
      depsLockFilePath: path.join(REPO_ROOT, 'package-lock.json'),
      description: props.description,
      runtime: LAMBDA_RUNTIME,
      architecture: Architecture.ARM_64,
      memorySize: props.memoryMb,
      timeout: props.timeout,
      tracing: Tracing.ACTIVE,
      logGroup,
      role,
      environment: {
        ...props.environment,
        NODE_OPTIONS: '--enable-source-maps',
      },
      bundling: LAMBDA_BUNDLING,
    });
    // Tracing.ACTIVE adds xray:PutTraceSegments/PutTelemetryRecords on `*` to the role's default policy.
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Only X-Ray xray:PutTraceSegments and xray:PutTelemetryRecords use Resource "*": X-Ray supports no ' +
        'resource-level permissions for them (AWS Service Authorization Reference). No data is readable through them.',
    });
  }
}
