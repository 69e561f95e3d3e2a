import { spawn } from 'node:child_process';
import path from 'node:path';
import { freePort } from '../../local/ports';
import { waitForOutput } from '../support/process';

/**
 * `npm start` as a user runs it: the entry point under tsx (not Jest's module loader, which resolves packages its own
 * way), its own DynamoDB Local and fauxqs, the seed applied through the real webhooks and consumers before the banner.
 * A package the runtime cannot load, or a handler that fails on the seed's callbacks, never prints the banner.
 */
const ROOT = path.resolve(__dirname, '../..');

describe('npm start (local/dev.ts)', () => {
  it('comes up on the pinned Node with the demo seed applied, serves the API, and stops everything on SIGTERM', async () => {
    const port = await freePort();
    // Only what a user's shell would have: the Jest stack's endpoints and table names must not leak in.
    const env = {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      PORT: String(port),
      D1_SIM_PORT: String(await freePort()),
      LOCAL_DDB_PORT: String(await freePort()),
      LOCAL_SQS_PORT: String(await freePort()),
      EVENT_SINK_PORT: String(await freePort()),
      LOG_LEVEL: 'WARN',
    };
    const child = spawn(process.execPath, ['--import', 'tsx', 'local/dev.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const banner = await waitForOutput(child, /token-lifecycle is up in \d+ ms \(Node v\d+\.\d+\.\d+\)/, 90_000);
      expect(banner).toContain(`(Node ${process.version})`);
      const token = (await (await fetch(`http://127.0.0.1:${port}/v1/tokens/vc-1`)).json()) as { state: string; lastAction: string };
      expect(token).toMatchObject({ state: 'ACTIVE', lastAction: 'ACTIVATE' });
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    // The JVM and fauxqs went with it: their ports refuse connections.
    for (const engine of [env.LOCAL_DDB_PORT, env.LOCAL_SQS_PORT]) {
      await expect(fetch(`http://127.0.0.1:${engine}/`)).rejects.toThrow();
    }
  }, 120_000);
});
