import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { freePort } from '../../local/ports';
import { waitForOutput } from '../support/process';

export const ROOT = path.resolve(__dirname, '../..');
export const ARTIFACTS = path.join(ROOT, 'test-artifacts', 'console');

/** Debian's chromium: $CHROMIUM_PATH, else /usr/bin/chromium, else whatever `which chromium` finds. Never skipped. */
export function chromiumPath(): string {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium'];
  for (const candidate of candidates) if (candidate && existsSync(candidate)) return candidate;
  try {
    const found = execFileSync('which', ['chromium'], { encoding: 'utf8' }).trim();
    if (found) return found;
  } catch {
    // not on the PATH either
  }
  throw new Error('chromium not found: apt-get install chromium (or set CHROMIUM_PATH)');
}

export function launchBrowser(): Promise<Browser> {
  // --no-sandbox: the tests run as root, where Chromium's sandbox refuses to start.
  return chromium.launch({ executablePath: chromiumPath(), headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
}

export interface RunningService {
  url: string;
  consoleUrl: string;
  simulatorUrl: string;
  stop(): Promise<void>;
}

/** `npm start` itself (local/dev.ts) on free ports, with its seed; resolves after its banner. */
export async function startService(): Promise<RunningService> {
  const [port, simPort, sinkPort, ddbPort, sqsPort] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/tmp',
    PORT: String(port),
    D1_SIM_PORT: String(simPort),
    LOCAL_DDB_PORT: String(ddbPort),
    LOCAL_SQS_PORT: String(sqsPort),
    EVENT_SINK_PORT: String(sinkPort),
    LOG_LEVEL: 'WARN',
    POWERTOOLS_METRICS_DISABLED: 'true',
    // Quick retries: the failing-operation test must not wait out the default backoff.
    D1_RETRY_BASE_DELAY_MS: '100',
  };
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'local/dev.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const output = await waitForOutput(child, /token-lifecycle is up in \d+ ms/, 120_000).catch(async (err: unknown) => {
    child.kill('SIGTERM');
    await exited;
    throw err;
  });
  const url = `http://127.0.0.1:${port}`;
  if (!output.includes(`${url}/console/`)) throw new Error(`the npm start banner does not mention ${url}/console/:\n${output.slice(-2000)}`);
  return {
    url,
    consoleUrl: `${url}/console/`,
    simulatorUrl: `http://127.0.0.1:${simPort}`,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

export async function postJson(url: string, body: unknown): Promise<{ status: number; body: any }> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

export function artifact(name: string): string {
  mkdirSync(ARTIFACTS, { recursive: true });
  return path.join(ARTIFACTS, name);
}
