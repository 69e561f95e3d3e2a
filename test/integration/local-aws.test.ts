import { spawn } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import path from 'node:path';
import { freePort } from '../../local/ports';

/**
 * `npm start` and the Jest global setup start DynamoDB Local and fauxqs together. When DynamoDB Local cannot start,
 * the error must name it and nothing may be left running: a fauxqs left listening once kept a Jest run alive
 * forever after its global setup failed (a hang, not a failure). Run in a child Node process (fauxqs is ESM-only,
 * see test/chaos/support/own-engine.ts) that sets an exit code but never calls process.exit: it ends only if
 * every server and child process was stopped.
 */

/** A port taken by a server that accepts connections and never answers (the child's probes connect to it). */
function occupyPort(port: number): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '0.0.0.0', () =>
      resolve({
        port: (server.address() as { port: number }).port,
        close: () =>
          new Promise((done) => {
            for (const socket of sockets) socket.destroy();
            server.close(() => done());
          }),
      }),
    );
  });
}

function startLocalAwsInChild(
  ports: { ddbPort: number; sqsPort: number },
  env: Record<string, string> = {},
): Promise<{ code: number | null; stderr: string; timedOut: boolean }> {
  const source = `
const { startLocalAws } = require(${JSON.stringify(path.resolve(__dirname, '../../local/local-aws.ts'))});
startLocalAws(${JSON.stringify(ports)}).then(
  (engines) => { console.error('started'); return engines.stop(); },
  (err) => { console.error(String(err.message)); process.exitCode = 3; },
);`;
  const child = spawn(process.execPath, ['--import', 'tsx', '-e', source], {
    cwd: path.resolve(__dirname, '../..'),
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ...env },
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve({ code: null, stderr, timedOut: true });
    }, 30_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr, timedOut: false });
    });
  });
}

describe('startLocalAws when DynamoDB Local cannot start', () => {
  it('its port is taken: fails naming DynamoDB Local, and the process ends by itself: nothing left listening or running', async () => {
    const occupied = await occupyPort(await freePort());
    try {
      const result = await startLocalAwsInChild({ ddbPort: occupied.port, sqsPort: await freePort() });
      expect(result).toMatchObject({ timedOut: false, code: 3 });
      expect(result.stderr).toMatch(/DynamoDB Local did not start \(exit 1\)/);
    } finally {
      await occupied.close();
    }
  }, 60_000);

  it('no java on the PATH: fails saying Java is required, without an unhandled error, and ends by itself', async () => {
    const result = await startLocalAwsInChild({ ddbPort: await freePort(), sqsPort: await freePort() }, { PATH: '/nonexistent' });
    expect(result).toMatchObject({ timedOut: false, code: 3 });
    expect(result.stderr).toMatch(/DynamoDB Local did not start \(not started\): cannot run java \(Java 17 is required/);
  }, 60_000);
});
