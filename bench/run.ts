/**
 * `npm run bench` (≤ 5 min on 2 cores) / `npm run bench -- --quick` (≤ 60 s): the service's figures, each beside a
 * baseline measured in the same run on the same machine, so a noisy machine still gives a stable ratio.
 *
 *   1. webhook ack latency at 32 clients vs a bare endpoint doing one SendMessage;
 *   2. callbacks through the whole pipeline (webhook → SQS → apply → DynamoDB) vs the same I/O done bare, then the
 *      end state of every token checked against an oracle (exit 1 on any mismatch);
 *   3. DynamoDB and SQS requests per applied callback and per duplicate (SDK middleware counters);
 *   4. cost per million callbacks and per million LCM operations from those counts and bench/prices.ts, and what
 *      events out adds per million callbacks;
 *   5. events out: lag from a callback accepted to its events received by a webhook subscriber (bench/receiver.ts),
 *      beside the same callbacks' accepted → applied lag, and the publisher's and deliveries' requests;
 *   6. every Lambda's bundle (built as CDK builds it) and its init time vs a bundle that only constructs the
 *      clients (bench/bundles.ts), measured first, before the service starts.
 *
 * Options: --quick, --callbacks=<n>, --seed=<n>, --job-cards=<n>, --job-tps=<n>; --bundles-only prints section 6 alone (latest.json untouched). Progress goes to stderr; the table to stdout; the same figures to
 * bench/results/latest.json. Timings are never asserted: a missed target prints MISS, it does not fail the run.
 */
import { rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundleRows, measureBundles } from './bundles';
import { eventLag } from './events-out';
import {
  costFigures,
  costRows,
  eventsLogged,
  eventsOutRows,
  jobFigures,
  jobRows,
  latencyRows,
  pipelineRows,
  requestFigures,
  requestRows,
  steadyStateRows,
} from './figures';
import { jobCards, jobMismatches, jobPhase, learnDeliveries, seedSimulatorCards } from './jobs';
import {
  ackPhase,
  BARE_CONSUMER,
  CALLBACK_CONSUMER,
  lcmPhase,
  runInterleaved,
  runPipeline,
  TOKEN_UPDATE_CONSUMER,
  withConsumers,
  type PipelineRun,
} from './phases';
import { PRICES, PRICES_RECORDED } from './prices';
import { BENCH_TR_API_KEY } from './protocol';
import { formatTable, machine, writeJson } from './report';
import { startWebhookReceiver, type WebhookReceiver } from './receiver';
import { startServiceProcess, type ServiceProcess } from './service-process';
import { seededRandom } from './stats';
import { callbacksByVersion, tableClient, verifyNetworkTokens, verifyOperations, verifyTokens } from './verify';
import { callbackWorkload, steadyStateWorkload, tokenUpdateWorkload } from './workload';

interface Profile {
  mode: 'quick' | 'full';
  callbacks: number;
  /** Unreported runs first, so neither side of a comparison pays for the JIT or first module loads. */
  warmupCallbacks: number;
  ackSeconds: number;
  ackWarmupSeconds: number;
  ackRounds: number;
  /** The pipeline comparison alternates product and baseline in this many chunks each. */
  chunks: number;
  tokenUpdates: number;
  lcmOperations: number;
  /** Cards of the bulk job (section 7), one token each, and D1_MAX_TPS of the service it runs on. */
  jobCards: number;
  jobTps: number;
  /** Fresh node processes per bundle for its init time. */
  initRounds: number;
  seed: number;
}

const CONNECTIONS = 32;
const DUPLICATE_SHARE = 0.1;
const RESULTS_FILE = path.join(import.meta.dirname, 'results', 'latest.json');

function profile(argv: readonly string[]): Profile {
  const quick = argv.includes('--quick');
  const option = (name: string): number | undefined => {
    const arg = argv.find((a) => a.startsWith(`--${name}=`));
    return arg ? Number(arg.slice(name.length + 3)) : undefined;
  };
  const callbacks = option('callbacks') ?? (quick ? 1000 : 5000);
  return {
    mode: quick ? 'quick' : 'full',
    callbacks,
    warmupCallbacks: quick ? 50 : Math.round(callbacks / 10),
    ackSeconds: quick ? 1.5 : 4,
    ackWarmupSeconds: quick ? 1 : 3,
    ackRounds: quick ? 2 : 5,
    chunks: quick ? 2 : 6,
    tokenUpdates: Math.round(callbacks / 5),
    lcmOperations: quick ? 20 : 200,
    jobCards: option('job-cards') ?? (quick ? 1000 : 10_000),
    jobTps: option('job-tps') ?? 200,
    initRounds: quick ? 10 : 20,
    seed: option('seed') ?? 7,
  };
}

const progress = (line: string): void => {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
};

function pipelineOptions(bare: boolean, consumer: string) {
  // Generous: a stuck pipeline is a failure to report, not something to wait out. Only the product table has a
  // change stream consumer (events out); the bare pipeline has none.
  return { bare, consumer, concurrency: CONNECTIONS, timeoutMs: 120_000, settleEvents: !bare };
}

/** Events out: one subscription to every event type, pointing at the bench's receiver (before any workload). */
async function subscribe(service: ServiceProcess, receiver: WebhookReceiver): Promise<void> {
  const response = await fetch(`${service.info.gatewayUrl}/v1/event-subscriptions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ url: receiver.url, description: 'bench receiver' }),
  });
  const body = (await response.json()) as { secret?: string };
  if (response.status !== 201 || !body.secret) throw new Error(`POST /v1/event-subscriptions: HTTP ${response.status} ${JSON.stringify(body)}`);
  receiver.setSecret(body.secret);
}

async function measure(service: ServiceProcess, receiver: WebhookReceiver, p: Profile) {
  const random = seededRandom(p.seed);
  const table = tableClient(service.info.ddbEndpoint);
  const mismatches: string[] = [];
  await subscribe(service, receiver);

  progress(`1. ack latency: warm-up, then ${p.ackRounds} rounds of baseline, notifyVirtualCardChange, notify-token-update (${p.ackSeconds} s each)`);
  const ack = await ackPhase(service, { seconds: p.ackSeconds, warmupSeconds: p.ackWarmupSeconds, rounds: p.ackRounds, connections: CONNECTIONS });

  const workload = callbackWorkload({ prefix: 'cb', total: p.callbacks, duplicateShare: DUPLICATE_SHARE, random });
  const warmProduct = callbackWorkload({ prefix: 'wp', total: p.warmupCallbacks, duplicateShare: DUPLICATE_SHARE, random });
  const warmBare = callbackWorkload({ prefix: 'wb', total: p.warmupCallbacks, duplicateShare: DUPLICATE_SHARE, random });
  const updates = tokenUpdateWorkload({ prefix: 'tu', total: p.tokenUpdates, duplicateShare: DUPLICATE_SHARE, apiKey: BENCH_TR_API_KEY, random });
  const resend = workload.distinct.filter((_, i) => i % 10 === 0);
  const steady = steadyStateWorkload({ prefix: 'ss', tokens: Math.round(p.callbacks / 2), random });

  const productOptions = pipelineOptions(false, CALLBACK_CONSUMER);
  const bareOptions = pipelineOptions(true, BARE_CONSUMER);
  const results = await withConsumers(service, ['product', 'bare'], async () => {
    progress(`2. pipeline warm-up: ${p.warmupCallbacks} callbacks through each side`);
    await runPipeline(service, { ...bareOptions, deliveries: warmBare.deliveries });
    await runPipeline(service, { ...productOptions, deliveries: warmProduct.deliveries });

    progress(
      `2. pipeline: ${p.callbacks} callbacks (${workload.duplicates} duplicates, ${workload.expected.length} tokens) through the product and bare, ${p.chunks} alternating chunks each`,
    );
    const { product, bare } = await runInterleaved(service, { product: productOptions, bare: bareOptions, deliveries: workload.deliveries, chunks: p.chunks });

    progress(`3. duplicates only: re-sending ${resend.length} applied callbacks`);
    const duplicates = await runPipeline(service, { ...productOptions, deliveries: resend });

    progress(`2. token updates: ${p.tokenUpdates} notify-token-update deliveries (${updates.expected.length} tokens)`);
    const tokenUpdates = await runPipeline(service, { ...pipelineOptions(false, TOKEN_UPDATE_CONSUMER), deliveries: updates.deliveries });

    progress(`2. steady state: ${steady.learn.length} tokens learnt (ACTIVATE), then one RENEW on each known token`);
    const learnt = await runPipeline(service, { ...productOptions, deliveries: steady.learn });
    const steadyState = await runPipeline(service, { ...productOptions, deliveries: steady.renew });

    progress(`4. LCM: ${p.lcmOperations} operations through the back-office API, d1-submitter, the D1 simulator and the callback`);
    const lcm = await lcmPhase(service, table, { operations: p.lcmOperations, concurrency: 8, timeoutMs: 60_000 });

    progress(`7. bulk job: ${p.jobCards} cards of one token each seeded in the simulator, learnt through ACTIVATE callbacks`);
    const cards = jobCards('job', p.jobCards);
    await seedSimulatorCards(service.info.simulatorUrl, 'job', p.jobCards);
    const jobLearnt = await runPipeline(service, { ...productOptions, deliveries: learnDeliveries(cards), timeoutMs: 600_000 });
    progress(`7. bulk job: one SUSPEND job over the ${p.jobCards} cards at D1_MAX_TPS ${p.jobTps} (floor ${p.jobCards / p.jobTps} s)`);
    const job = await jobPhase(service, { cards, maxTps: p.jobTps, timeoutMs: 1_500_000 });
    return { product, bare, duplicates, tokenUpdates, learnt, steadyState, lcm, jobLearnt, job };
  });

  progress(
    `verifying ${workload.expected.length + warmProduct.expected.length + steady.expected.length} tokens, ${updates.expected.length} network tokens, ${results.lcm.created.length} operations`,
  );
  const tokenMismatches = await verifyTokens(table, service.info.tableName, [...warmProduct.expected, ...workload.expected, ...steady.expected]);
  mismatches.push(
    ...results.product.failures,
    ...results.bare.failures,
    ...results.tokenUpdates.failures,
    ...results.learnt.failures,
    ...results.steadyState.failures,
    ...results.jobLearnt.failures,
    ...jobMismatches(results.job),
    ...tokenMismatches,
    ...(await verifyNetworkTokens(table, service.info.tableName, updates.expected)),
    ...(await verifyOperations(table, service.info.tableName, results.lcm.created)),
  );

  progress(`5. events out: matching the ${receiver.events().size} events received to their callbacks`);
  const tokens = workload.expected.map((t) => t.virtualCardId);
  const lag = eventLag(
    results.product,
    receiver.events().values(),
    new Set(tokens),
    await callbacksByVersion(table, service.info.tableName, tokens),
    eventsLogged(results.product.counters),
  );
  const receiverStats = receiver.stats();
  mismatches.push(...lag.unmatched);
  if (receiverStats.rejected > 0) mismatches.push(`${receiverStats.rejected} webhook requests failed signature verification`);
  if (lag.matched !== lag.logged) mismatches.push(`events out: ${lag.matched} token events received and matched, ${lag.logged} logged`);

  const memory = await service.memory();
  table.destroy();
  const verified = { tokens: workload.expected.length + warmProduct.expected.length + steady.expected.length, mismatches: tokenMismatches.length };
  return { ack, ...results, memory, verified, mismatches, distinct: workload.distinct.length, lag, receiver: receiverStats };
}

/** Drops per-record detail (counters stay) so latest.json stays readable. */
const summary = ({ lags: _lags, accepted: _accepted, applied: _applied, ...run }: PipelineRun) => ({ ...run, failures: run.failures.length });

async function main(): Promise<void> {
  const started = Date.now();
  const p = profile(process.argv.slice(2));
  const host = machine();
  progress(`${p.mode} run on ${host.cpu} × ${host.cores}, ${host.memoryGiB} GiB, Node ${host.node}`);
  // First, on a machine nothing of the bench loads yet: init times are single-process figures.
  const bundles = await measureBundles({ rounds: p.initRounds, progress });
  if (process.argv.includes('--bundles-only')) {
    console.log(formatTable(bundleRows(bundles)));
    return;
  }

  const logFile = path.join(os.tmpdir(), `token-lifecycle-bench-${process.pid}.log`);
  const receiver = await startWebhookReceiver();
  process.env.BENCH_D1_MAX_TPS = String(p.jobTps); // the service process inherits it
  const service = await startServiceProcess(logFile);
  progress(`service up at ${service.info.gatewayUrl} (handler logs: ${logFile}); webhook receiver at ${receiver.url}`);
  let results: Awaited<ReturnType<typeof measure>>;
  try {
    results = await measure(service, receiver, p);
  } finally {
    await service.stop();
    await receiver.stop();
  }

  const requests = requestFigures(results.product, results.distinct, results.duplicates, results.bare, results.tokenUpdates, results.lcm);
  const cost = costFigures(results.product, results.lcm);
  const jobs = jobFigures(results.job);
  const rows = [
    ...latencyRows(results.ack),
    ...pipelineRows(results.product, results.bare, results.tokenUpdates, results.verified),
    ...requestRows(requests),
    ...steadyStateRows(results.learnt, results.steadyState),
    ...costRows(cost),
    ...eventsOutRows(results.lag, requests),
    ...jobRows(results.job, jobs, results.product),
    ...bundleRows(bundles),
  ];
  const seconds = (Date.now() - started) / 1000;
  const date = new Date().toISOString();

  console.log(`token-lifecycle bench — ${p.mode} — ${date}`);
  console.log(`${host.cpu} × ${host.cores} cores, ${host.memoryGiB} GiB, Node ${host.node}, ${host.os}`);
  console.log('');
  console.log(formatTable(rows));
  console.log('');
  console.log(
    `peak RSS: service process (gateway, handlers, pollers, fauxqs, simulator) ${Math.round(results.memory.serviceMb)} MB, ` +
      `DynamoDB Local ${results.memory.javaMb === null ? 'n/a' : `${Math.round(results.memory.javaMb)} MB`}; run took ${seconds.toFixed(0)} s`,
  );

  writeJson(RESULTS_FILE, {
    date,
    mode: p.mode,
    machine: host,
    parameters: { ...p, connections: CONNECTIONS, duplicateShare: DUPLICATE_SHARE },
    rows,
    ack: results.ack,
    pipeline: {
      product: summary(results.product),
      bare: summary(results.bare),
      duplicatesOnly: summary(results.duplicates),
      tokenUpdates: summary(results.tokenUpdates),
    },
    lcm: { ...results.lcm, created: results.lcm.created.length },
    job: { ...results.job, learnt: summary(results.jobLearnt), figures: jobs },
    requests,
    cost,
    eventsOut: { ...results.lag, unmatched: results.lag.unmatched.length, receiver: results.receiver },
    bundles,
    prices: { recorded: PRICES_RECORDED, ...PRICES },
    memory: results.memory,
    verification: { mismatches: results.mismatches },
    seconds,
  });
  console.log(`figures written to ${path.relative(process.cwd(), RESULTS_FILE)}`);

  if (results.mismatches.length > 0) {
    console.error(`\n!!! VERIFICATION FAILED: ${results.mismatches.length} mismatches between the table and the oracle !!!`);
    for (const line of results.mismatches.slice(0, 25)) console.error(`  ${line}`);
    console.error(`(handler logs kept in ${logFile})`);
    process.exitCode = 1;
    return;
  }
  rmSync(logFile, { force: true });
}

main().catch((err: unknown) => {
  console.error('bench failed:', err);
  process.exitCode = 1;
});
