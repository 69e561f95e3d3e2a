import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';

/**
 * A DynamoDB Local + fauxqs of a test file's own, started with local/local-aws.ts startLocalAws() in a
 * child Node process: fauxqs is ESM-only and Jest's module system (Node 20) cannot load it inside a test file, which
 * is why the shared engine starts from the global setup. The child prints the endpoints and the JVM's pid, so the
 * test can SIGSTOP/SIGCONT that JVM — never the shared one — and stops everything when told, or when the test
 * process goes away (its stdin closes).
 */

export interface OwnEngine {
  ddbEndpoint: string;
  sqsEndpoint: string;
  env: Record<string, string>;
  javaPid: number;
  pause(): void;
  resume(): void;
  stop(): Promise<void>;
}

const CHILD_SOURCE = `
const { startLocalAws } = require(${JSON.stringify(path.resolve(__dirname, '../../../local/local-aws.ts'))});
startLocalAws().then((engines) => {
  process.stdout.write(JSON.stringify({ ddbEndpoint: engines.ddbEndpoint, sqsEndpoint: engines.sqsEndpoint, env: engines.env, javaPid: engines.java.pid }) + '\\n');
  let stopping = false;
  const stop = () => { if (stopping) return; stopping = true; engines.stop().finally(() => process.exit(0)); };
  process.stdin.on('close', stop);
  process.stdin.on('end', stop);
  process.stdin.resume();
  process.on('SIGTERM', stop);
}, (err) => { console.error(err); process.exit(1); });
`;

export async function startOwnEngine(): Promise<OwnEngine> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', '-e', CHILD_SOURCE], {
    cwd: path.resolve(__dirname, '../../..'),
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const info = await new Promise<Omit<OwnEngine, 'pause' | 'resume' | 'stop'>>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    const timer = setTimeout(() => reject(new Error('own engine did not start within 60 s')), 60_000);
    lines.once('line', (line) => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(line));
      } catch (err) {
        reject(err as Error);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`own engine exited with ${code}`));
    });
  });
  return {
    ...info,
    pause: () => process.kill(info.javaPid, 'SIGSTOP'),
    resume: () => process.kill(info.javaPid, 'SIGCONT'),
    async stop() {
      try {
        process.kill(info.javaPid, 'SIGCONT');
      } catch {
        // already gone
      }
      child.stdin?.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
