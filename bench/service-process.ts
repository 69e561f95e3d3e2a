/** Starts bench/service.ts in a child process and drives it; makes sure it (and its JVM) is gone at the end. */
import { fork, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import path from 'node:path';
import type { ConsumerSet, CounterReport, PeakMemory, ServiceInfo } from './protocol';
import { rpcClient } from './rpc';

export interface ServiceProcess {
  info: ServiceInfo;
  pid: number;
  resetCounters(): Promise<void>;
  readCounters(): Promise<CounterReport>;
  /** Starts a consumer set unless it runs already; several may run at once. */
  startConsumers(set: ConsumerSet): Promise<void>;
  /** Stops every consumer set. */
  stopConsumers(): Promise<void>;
  purgeQueues(): Promise<void>;
  /** Messages the consumer processed successfully since the last reset. */
  processed(consumer: string): Promise<number>;
  /** Callback identity → when the consumer first processed it (epoch ms), since the last reset. */
  completions(consumer: string): Promise<Record<string, number>>;
  idle(): Promise<void>;
  /** Every change committed so far published, and every webhook delivery enqueued since the reset processed. */
  eventsSettled(timeoutMs: number): Promise<void>;
  memory(): Promise<PeakMemory>;
  stop(): Promise<void>;
}

function killIfAlive(pid: number): void {
  try {
    process.kill(pid, 0);
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/**
 * The child's stdout (the handlers' JSON logs) goes to `logFile`; its stderr too, and the last lines of stderr are
 * kept for the error message if it dies.
 */
export async function startServiceProcess(logFile: string): Promise<ServiceProcess> {
  const log = createWriteStream(logFile);
  const child: ChildProcess = fork(path.join(import.meta.dirname, 'service.ts'), [], {
    // BENCH_CPU_PROF=<dir>: write the service process's V8 CPU profile there (where its time goes, per function).
    execArgv: ['--import', 'tsx', ...(process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [])],
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  let stderrTail = '';
  child.stdout?.pipe(log, { end: false });
  child.stderr?.on('data', (chunk: Buffer) => {
    log.write(chunk);
    stderrTail = (stderrTail + chunk.toString()).slice(-3000);
  });
  // If the bench dies without stopping the service, do not leave it (or the JVM) running.
  const killOnExit = (): void => {
    if (child.exitCode === null) child.kill('SIGTERM');
  };
  process.once('exit', killOnExit);

  const info = await new Promise<ServiceInfo>((resolve, reject) => {
    child.on('message', (message: { ready?: ServiceInfo }) => {
      if (message?.ready) resolve(message.ready);
    });
    child.once('exit', (code, signal) => reject(new Error(`service process exited before it was ready (${code ?? signal}):\n${stderrTail}`)));
  });
  const call = rpcClient(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  return {
    info,
    pid: child.pid!,
    resetCounters: () => call('resetCounters'),
    readCounters: () => call('readCounters'),
    startConsumers: (set) => call('startConsumers', { set }),
    stopConsumers: () => call('stopConsumers'),
    purgeQueues: () => call('purgeQueues'),
    processed: (consumer) => call('processed', { consumer }),
    completions: (consumer) => call('completions', { consumer }),
    idle: () => call('idle'),
    eventsSettled: (timeoutMs) => call('eventsSettled', { timeoutMs }),
    memory: () => call('memory'),
    async stop() {
      if (child.exitCode === null) {
        await call('stop').catch(() => undefined);
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      process.removeListener('exit', killOnExit);
      killIfAlive(info.javaPid); // normally stopped by the service already; never leave a JVM behind
      await new Promise<void>((resolve) => log.end(() => resolve()));
    },
  };
}
