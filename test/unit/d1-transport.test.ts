import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Agent, fetch as undiciFetch } from 'undici';
import { d1ClientTls, d1Fetch } from '../../lambdas/adapters/d1-transport';

/** A throwaway CA, a server certificate for 127.0.0.1 and a client certificate, made with openssl. */
function makePki(dir: string) {
  const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  run('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=test-ca');
  for (const name of ['server', 'client']) {
    run(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
      '-subj',
      `/CN=${name === 'server' ? '127.0.0.1' : 'issuer-client'}`,
    );
    if (name === 'server') {
      writeFileSync(path.join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
      run(
        'x509',
        '-req',
        '-in',
        'server.csr',
        '-CA',
        'ca.pem',
        '-CAkey',
        'ca.key',
        '-CAcreateserial',
        '-out',
        'server.pem',
        '-days',
        '1',
        '-extfile',
        'san.ext',
      );
    } else {
      run('x509', '-req', '-in', 'client.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'client.pem', '-days', '1');
    }
  }
  const read = (f: string) => readFileSync(path.join(dir, f), 'utf8');
  return { ca: read('ca.pem'), serverCert: read('server.pem'), serverKey: read('server.key'), clientCert: read('client.pem'), clientKey: read('client.key') };
}

let dir: string;
let pki: ReturnType<typeof makePki>;
let server: Server;
let url: string;
const seenClients: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'd1-mtls-'));
  pki = makePki(dir);
  // D1's side: requires a client certificate from our CA, TLS 1.2+.
  server = createServer(
    { key: pki.serverKey, cert: pki.serverCert, ca: pki.ca, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.2' },
    (req, res) => {
      const peer = (req.socket as import('node:tls').TLSSocket).getPeerCertificate();
      seenClients.push(String(peer.subject?.CN));
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/updateCardState`;
}, 30_000);

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  rmSync(dir, { recursive: true, force: true });
});

describe('D1 transport (mutual TLS)', () => {
  it('presents our client certificate and is accepted', async () => {
    const fetchD1 = d1Fetch({ cert: pki.clientCert, key: pki.clientKey, ca: pki.ca });
    const res = await fetchD1(url, { method: 'POST', body: '{}' });
    expect(res.status).toBe(200);
    expect(seenClients).toContain('issuer-client');
  });

  it('accepts PEMs whose newlines arrive as \\n escapes (env vars, secrets)', async () => {
    const escape = (pem: string) => pem.replace(/\n/g, '\\n');
    const res = await d1Fetch({ cert: escape(pki.clientCert), key: escape(pki.clientKey), ca: pki.ca })(url, { method: 'POST', body: '{}' });
    expect(res.status).toBe(200);
  });

  it('without a client certificate (server trusted, nothing presented) the server refuses', async () => {
    const anonymous = new Agent({ connect: { ca: pki.ca } });
    await expect(undiciFetch(url, { method: 'POST', body: '{}', dispatcher: anonymous })).rejects.toThrow();
    await anonymous.close();
  });

  it('does not trust a server outside the trust store', async () => {
    const res = d1Fetch({ cert: pki.clientCert, key: pki.clientKey })(url, { method: 'POST', body: '{}' });
    await expect(res).rejects.toThrow();
  });

  it('wants both halves of the identity or neither', () => {
    expect(d1ClientTls({})).toBeUndefined();
    expect(d1ClientTls({ D1_CLIENT_CERT: 'c', D1_CLIENT_KEY: 'k' })).toEqual({ cert: 'c', key: 'k' });
    expect(() => d1ClientTls({ D1_CLIENT_CERT: 'c' })).toThrow(/together/);
  });
});
