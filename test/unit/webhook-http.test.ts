import type { LookupAddress } from 'node:dns';
import { createServer, type Server } from 'node:http';
import { DomainError } from '../../lambdas/domain/errors';
import { guardedLookup, RefusedAddress, UndiciWebhookSender, WebhookUrlGuard } from '../../lambdas/adapters/webhook-http';

/** The webhook URL rules where they meet the network: name resolution at subscription time and on every connection. */

const errno = (code: string): NodeJS.ErrnoException => Object.assign(new Error(code), { code });

describe('WebhookUrlGuard (AWS: loopback not allowed)', () => {
  it.each([
    ['a public address', ['93.184.216.34'], null],
    ['a private address', ['10.1.2.3'], /^host /],
    ['one private among public ones', ['93.184.216.34', '192.168.0.10'], /^host /],
    ['the metadata address', ['169.254.169.254'], /^host /],
    ['an IPv6 unique-local address', ['fd00::1'], /^host /],
  ])('a host resolving to %s', async (_name, addresses, expected) => {
    const guard = new WebhookUrlGuard(false, async () => addresses);
    const problem = await guard.check('https://hooks.example.com/x');
    if (expected === null) expect(problem).toBeNull();
    else expect(problem).toMatch(expected);
  });

  it("a name that does not exist is the caller's mistake; a resolver that is down is ours (503)", async () => {
    expect(await new WebhookUrlGuard(false, async () => Promise.reject(errno('ENOTFOUND'))).check('https://nope.example.com/')).toBe('host does not resolve');
    await expect(new WebhookUrlGuard(false, async () => Promise.reject(errno('EAI_AGAIN'))).check('https://x.example.com/')).rejects.toBeInstanceOf(
      DomainError,
    );
  });

  it('does not resolve IP literals (the URL rule classifies them) nor anything when loopback is allowed', async () => {
    const resolve = jest.fn(async () => ['10.0.0.1']);
    expect(await new WebhookUrlGuard(false, resolve).check('https://93.184.216.34/x')).toBeNull();
    expect(await new WebhookUrlGuard(true, resolve).check('http://127.0.0.1:3200/events/x')).toBeNull();
    expect(resolve).not.toHaveBeenCalled();
  });
});

describe('guardedLookup (every connection a delivery opens)', () => {
  const lookupOf = (host: string, all: boolean) =>
    new Promise<{ err: Error | null; address: string | LookupAddress[]; family?: number }>((resolve) =>
      guardedLookup(
        host,
        { all } as never,
        ((err: Error | null, address: string | LookupAddress[], family?: number) => resolve({ err, address, ...(family ? { family } : {}) })) as never,
      ),
    );

  it('refuses a name that resolves to loopback', async () => {
    const { err } = await lookupOf('localhost', false);
    expect(err).toBeInstanceOf(RefusedAddress);
    expect((err as RefusedAddress).code).toBe('EWEBHOOKREFUSED');
  });

  it('passes a public address through, as one address or all of them', async () => {
    expect(await lookupOf('93.184.216.34', false)).toEqual({ err: null, address: '93.184.216.34', family: 4 });
    expect(await lookupOf('93.184.216.34', true)).toEqual({ err: null, address: [{ address: '93.184.216.34', family: 4 }] });
  });
});

describe('UndiciWebhookSender', () => {
  const webhook = { headers: { 'content-type': 'application/json', 'webhook-id': 'evt_1', 'webhook-timestamp': '1', 'webhook-signature': 'v1,x' }, body: '{}' };

  it('in AWS refuses loopback and private targets before connecting, whether literal or by name', async () => {
    const sender = new UndiciWebhookSender({ allowLoopback: false, timeoutMs: 1000 });
    try {
      expect(await sender.send('https://127.0.0.1:1/x', webhook)).toMatchObject({
        delivered: false,
        status: null,
        error: expect.stringMatching(/^refused: url /),
      });
      expect(await sender.send('http://93.184.216.34/x', webhook)).toMatchObject({ delivered: false, error: expect.stringMatching(/^refused: url /) });
      expect(await sender.send('https://localhost:1/x', webhook)).toMatchObject({ delivered: false, error: expect.stringMatching(/^refused: localhost /) });
    } finally {
      await sender.close();
    }
  });

  it('reports a refused connection as such', async () => {
    const sender = new UndiciWebhookSender({ allowLoopback: true, timeoutMs: 1000 });
    try {
      expect(await sender.send('http://127.0.0.1:1/x', webhook)).toEqual({ delivered: false, status: null, error: 'connection refused' });
    } finally {
      await sender.close();
    }
  });
});

describe('UndiciWebhookSender against an endpoint that misbehaves', () => {
  let server: Server;
  let base = '';
  const webhook = { headers: { 'content-type': 'application/json', 'webhook-id': 'evt_1', 'webhook-timestamp': '1', 'webhook-signature': 'v1,x' }, body: '{}' };
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/ok') res.writeHead(204).end();
      else if (req.url === '/fail') res.writeHead(500).end('no');
      else if (req.url === '/redirect') res.writeHead(302, { location: '/ok' }).end();
      else if (req.url === '/close') req.socket.destroy();
      // '/hang': never answers
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it.each([
    ['/ok', { delivered: true, status: 204 }],
    ['/fail', { delivered: false, status: 500, error: 'HTTP 500' }],
    ['/redirect', { delivered: false, status: 302, error: 'HTTP 302' }],
    ['/close', { delivered: false, status: null, error: 'connection closed' }],
    ['/hang', { delivered: false, status: null, error: 'timeout' }],
  ])('%s → %j', async (path, outcome) => {
    const sender = new UndiciWebhookSender({ allowLoopback: true, timeoutMs: 300 });
    try {
      expect(await sender.send(base + path, webhook)).toEqual(outcome);
    } finally {
      await sender.close();
    }
  });
});
