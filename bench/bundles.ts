/**
 * Section 6: every Lambda's bundle, built exactly as CDK builds it (lib/constructs/service-function.ts
 * `LAMBDA_BUNDLING` through `lambdaBuildOptions`: esbuild, minified ESM, AWS SDK bundled), beside a baseline bundle
 * built in the same run with the same options that only constructs a DynamoDB document client and an SQS client
 * (bench/baseline-lambda.ts).
 *
 * Per bundle: raw and gzip size, the largest contributors from esbuild's metafile (bytes in the output, grouped by
 * package; the service's own code as `lambdas/…`), and init time: the median over fresh `node` processes (the
 * pinned Node, `process.execPath`) of importing the bundle and composing its dependencies (`COMPOSE`, what the
 * first invocation does before its own work), with a Lambda-like environment and the variables its spec declares.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { build, type Metafile } from 'esbuild';
import { handlerEntry, LAMBDA_NODE_MAJOR, lambdaBuildOptions } from '../lib/constructs/service-function';
import type { EnvKey } from '../lambdas/config/env';
import { COMPOSE } from '../lambdas/define-handler-core';
import { HANDLERS, type HandlerName } from '../lambdas/topology';
import { QUEUES } from '../lambdas/resources';
import { atMost, type Row } from './report';
import { median, ratio } from './stats';

const run = promisify(execFile);
const REPO_ROOT = path.join(import.meta.dirname, '..');
const BASELINE = 'baseline';
const CONTRIBUTORS = 5;

/** The callback and token-update paths: their bundles and init are held to the baseline. */
export const HOT_PATH: readonly HandlerName[] = ['notify-virtual-card-change', 'notify-token-update', 'apply-virtual-card-change', 'apply-token-update'];
export const SIZE_TARGET = 1.3;
export const INIT_TARGET = 1.3;

export interface Contributor {
  /** An npm package (`@aws-sdk/client-sqs`) or `lambdas/…` for the service's own modules. */
  name: string;
  bytes: number;
}

export interface BundleFigure {
  name: HandlerName | typeof BASELINE;
  rawBytes: number;
  gzipBytes: number;
  /** Largest first; the first ten. */
  contributors: Contributor[];
  /** Median of `initSamples`: import + compose, ms. */
  initMs: number;
  initSamples: number[];
}

export interface BundleFigures {
  baseline: BundleFigure;
  lambdas: BundleFigure[];
  rounds: number;
}

/**
 * What Lambda sets for a Node.js 24 function with active tracing (the X-Ray SDK and Powertools see a Lambda), plus
 * the construct's NODE_OPTIONS. Dummy credentials: nothing here sends a request.
 */
const lambdaEnv = (name: string, taskRoot: string): NodeJS.ProcessEnv => ({
  AWS_REGION: 'eu-west-1',
  AWS_DEFAULT_REGION: 'eu-west-1',
  AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
  AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
  AWS_SESSION_TOKEN: 'bench',
  AWS_EXECUTION_ENV: `AWS_Lambda_nodejs${LAMBDA_NODE_MAJOR}.x`,
  AWS_LAMBDA_FUNCTION_NAME: `token-lifecycle-${name}`,
  AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
  AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(name === BASELINE ? 256 : (HANDLERS[name as HandlerName].memoryMb ?? 256)),
  LAMBDA_TASK_ROOT: taskRoot,
  _X_AMZN_TRACE_ID: 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1',
  AWS_XRAY_DAEMON_ADDRESS: '127.0.0.1:2000',
  AWS_XRAY_CONTEXT_MISSING: 'LOG_ERROR',
  NODE_OPTIONS: '--enable-source-maps',
  LOG_LEVEL: 'INFO',
  POWERTOOLS_SERVICE_NAME: 'token-lifecycle',
  TZ: 'UTC',
});

/**
 * Valid values for every variable a spec may declare, shaped like what the stack passes (lib/constructs/functions.ts):
 * KMS key ARNs rather than raw DATA_KEY, an event bus, no mTLS. Secret-valued ones are given as values, so composing
 * fetches nothing (in AWS the first invocation fetches them from Secrets Manager: not timed here).
 */
const QUEUE_URL = (name: string) => `https://sqs.eu-west-1.amazonaws.com/123456789012/${name}`;
const DUMMY_ENV: Partial<Record<EnvKey, string>> = {
  ISSUER_ID: 'ISSUER0001',
  TR_API_KEY: 'bench-tr-api-key',
  D1_ISSUER_BASE_URL: 'https://d1.example.com/issuer',
  D1_COF_BASE_URL: 'https://d1.example.com/cof',
  D1_COF_API_KEY: 'bench-d1-cof-api-key',
  TR_JWE_PRIVATE_KEY: '-----BEGIN PRIVATE KEY-----\\nbench\\n-----END PRIVATE KEY-----',
  TABLE_NAME: 'token-lifecycle-table',
  // Every queue of lambdas/resources.ts, so a new queue's variable cannot be forgotten here.
  ...Object.fromEntries(Object.values(QUEUES).map((queue) => [queue.envVar, QUEUE_URL(queue.localName)])),
  WEBHOOK_DELIVERIES_DLQ_URL: QUEUE_URL('webhook-deliveries-dlq'),
  EVENT_BUS_NAME: 'token-lifecycle-events',
  DATA_KEY_KMS_KEY_ARN: 'arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555',
  API_NAME: 'backoffice',
};

function specEnv(name: HandlerName): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const key of HANDLERS[name].env) {
    const value = DUMMY_ENV[key];
    if (value !== undefined) env[key] = value;
  }
  return env;
}

/** `node_modules/@scope/name/…` → `@scope/name` (the innermost package); the service's code → `lambdas/…`. */
export function contributorOf(input: string): string {
  const parts = input.split('/');
  const at = parts.lastIndexOf('node_modules');
  if (at >= 0) return parts[at + 1]?.startsWith('@') ? `${parts[at + 1]}/${parts[at + 2]}` : parts[at + 1]!;
  return parts[0] === 'lambdas' || parts[0] === 'bench' ? `${parts[0]}/…` : input;
}

export function contributors(metafile: Metafile, outfile: string): Contributor[] {
  const output = Object.entries(metafile.outputs).find(([file]) => path.resolve(REPO_ROOT, file) === outfile)?.[1];
  if (!output) throw new Error(`esbuild metafile has no output ${outfile}`);
  const bytes = new Map<string, number>();
  for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
    const name = contributorOf(input);
    bytes.set(name, (bytes.get(name) ?? 0) + bytesInOutput);
  }
  return [...bytes]
    .map(([name, n]) => ({ name, bytes: n }))
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, 10);
}

interface Built {
  name: HandlerName | typeof BASELINE;
  file: string;
  env: NodeJS.ProcessEnv;
  rawBytes: number;
  gzipBytes: number;
  contributors: Contributor[];
}

async function buildOne(name: HandlerName | typeof BASELINE, entry: string, dir: string): Promise<Built> {
  const outdir = path.join(dir, name);
  // CDK's asset: index.mjs (+ index.mjs.map) in a directory of its own, the task root.
  const outfile = path.join(outdir, 'index.mjs');
  const result = await build({ ...lambdaBuildOptions(), entryPoints: [entry], outfile, metafile: true, logLevel: 'error', absWorkingDir: REPO_ROOT });
  const code = readFileSync(outfile);
  return {
    name,
    file: outfile,
    env: { ...lambdaEnv(name, outdir), ...(name === BASELINE ? {} : specEnv(name)) },
    rawBytes: code.length,
    gzipBytes: gzipSync(code).length,
    contributors: contributors(result.metafile, outfile),
  };
}

/**
 * The child: import the bundle, then compose its dependencies (the baseline constructs its clients at import).
 * Printed: ms from just before the import to the end of composition.
 */
const CHILD = `
const t0 = performance.now();
const mod = await import(process.argv[1]);
const compose = mod.handler?.[Symbol.for(${JSON.stringify(COMPOSE.description)})];
if (compose) await compose();
process.stdout.write(JSON.stringify({ ms: performance.now() - t0, composed: Boolean(compose) }));
`;

async function timeInit(bundle: Built): Promise<number> {
  const { stdout, stderr } = await run(process.execPath, ['--input-type=module', '-e', CHILD, pathToFileURL(bundle.file).href], {
    env: bundle.env,
    cwd: path.dirname(bundle.file),
    timeout: 30_000,
  });
  const result = JSON.parse(stdout.trim().split('\n').pop()!) as { ms: number; composed: boolean };
  if (bundle.name !== BASELINE && !result.composed) throw new Error(`${bundle.name}: the bundle's handler has no COMPOSE function`);
  if (stderr.trim()) throw new Error(`${bundle.name}: init wrote to stderr: ${stderr.trim().slice(0, 500)}`);
  return result.ms;
}

export async function measureBundles(options: { rounds: number; progress: (line: string) => void }): Promise<BundleFigures> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'token-lifecycle-bundles-'));
  try {
    const names = Object.keys(HANDLERS) as HandlerName[];
    options.progress(`6. bundles: building ${names.length} Lambdas and the baseline with esbuild (CDK's options)`);
    const built = await Promise.all([
      buildOne(BASELINE, path.join(import.meta.dirname, 'baseline-lambda.ts'), dir),
      ...names.map((name) => buildOne(name, handlerEntry(name), dir)),
    ]);
    options.progress(`6. bundles: init time, ${options.rounds} rounds of ${built.length} fresh node processes, one at a time, order rotated`);
    const samples = new Map<string, number[]>(built.map((b) => [b.name, []]));
    // One warm-up round (page cache, esbuild's output just written), not counted.
    for (const bundle of built) await timeInit(bundle);
    for (let round = 0; round < options.rounds; round++) {
      for (let i = 0; i < built.length; i++) {
        const bundle = built[(i + round) % built.length]!;
        samples.get(bundle.name)!.push(await timeInit(bundle));
      }
    }
    const figures = built.map(({ file: _file, env: _env, ...b }) => ({ ...b, initMs: median(samples.get(b.name)!), initSamples: samples.get(b.name)! }));
    return { baseline: figures[0]!, lambdas: figures.slice(1), rounds: options.rounds };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const SECTION = '6. Lambda bundles (esbuild as CDK: minified ESM, AWS SDK bundled) and init (import + compose)';
const kb = (bytes: number): number => bytes / 1024;
const describe = (list: readonly Contributor[]): string =>
  list
    .slice(0, CONTRIBUTORS)
    .map((c) => `${c.name} ${kb(c.bytes).toFixed(0)} KB`)
    .join(', ');

export function bundleRows(figures: BundleFigures): Row[] {
  const { baseline } = figures;
  const rows: Row[] = [
    {
      section: SECTION,
      metric: 'baseline size',
      value: kb(baseline.rawBytes),
      unit: 'KB',
      note: `DynamoDB document client + SQS client only: ${describe(baseline.contributors)}`,
    },
    { section: SECTION, metric: 'baseline gzip', value: kb(baseline.gzipBytes), unit: 'KB' },
    {
      section: SECTION,
      metric: 'baseline init',
      value: baseline.initMs,
      unit: 'ms',
      note: `median of ${figures.rounds} fresh node processes: import the bundle, construct the clients`,
    },
  ];
  for (const lambda of figures.lambdas) {
    const hot = HOT_PATH.includes(lambda.name as HandlerName);
    const sizeRatio = ratio(lambda.rawBytes, baseline.rawBytes);
    const gzipRatio = ratio(lambda.gzipBytes, baseline.gzipBytes);
    const initRatio = ratio(lambda.initMs, baseline.initMs);
    const target = (r: number, bound: number) => (hot ? { target: `ratio ≤ ${bound}`, verdict: atMost(r, bound) } : {});
    rows.push(
      {
        section: SECTION,
        metric: `${lambda.name} size`,
        value: kb(lambda.rawBytes),
        unit: 'KB',
        baseline: kb(baseline.rawBytes),
        ratio: sizeRatio,
        ...target(sizeRatio, SIZE_TARGET),
        note: describe(lambda.contributors),
      },
      {
        section: SECTION,
        metric: `${lambda.name} gzip`,
        value: kb(lambda.gzipBytes),
        unit: 'KB',
        baseline: kb(baseline.gzipBytes),
        ratio: gzipRatio,
        ...target(gzipRatio, SIZE_TARGET),
      },
      {
        section: SECTION,
        metric: `${lambda.name} init`,
        value: lambda.initMs,
        unit: 'ms',
        baseline: baseline.initMs,
        ratio: initRatio,
        ...target(initRatio, INIT_TARGET),
      },
    );
  }
  return rows;
}
