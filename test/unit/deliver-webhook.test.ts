import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { UndiciWebhookSender, WebhookUrlGuard } from '../../lambdas/adapters/webhook-http';
import type { ServiceEvent } from '../../lambdas/domain/events';
import type { WebhookDelivery } from '../../lambdas/domain/messages';
import { newWebhookSecret, WEBHOOK_RETRY_POLICY, webhookRequest } from '../../lambdas/domain/webhooks';
import type { WebhookDeliveryQueue } from '../../lambdas/ports/events';
import type { SendOutcome } from '../../lambdas/ports/subscriptions';
import { deliverWebhook, type DeliverWebhookDeps } from '../../lambdas/use-cases/deliver-webhook';

/** The delivery use case on in-memory ports (hops and long waits), and the address guard of the HTTP adapter. */

const event: ServiceEvent = { id: 'evt_1', type: 'token.created', timestamp: '2026-01-01T00:00:00.000Z', data: {} };
const NOW = new Date('2026-01-02T00:00:00.000Z');

function harness(outcome: SendOutcome, random = 0.5) {
  const sent: { url: string }[] = [];
  const queued: { deliveries: readonly WebhookDelivery[]; delaySeconds: number | undefined }[] = [];
  const parked: WebhookDelivery[] = [];
  const queue: WebhookDeliveryQueue = { enqueue: async (deliveries, delaySeconds) => void queued.push({ deliveries, delaySeconds }) };
  const deps: DeliverWebhookDeps = {
    subscriptions: {
      getSigningSecrets: async (id) =>
        id === 'sub_1'
          ? { subscription: { subscriptionId: id, url: 'https://hooks.example.com/x', eventTypes: [], description: null, createdAt: '' }, sealed: ['s'] }
          : null,
    },
    vault: { open: async () => newWebhookSecret() },
    sender: { send: async (url) => (sent.push({ url }), outcome) },
    queue,
    parked: { enqueue: async (deliveries) => void parked.push(...deliveries) },
    policy: WEBHOOK_RETRY_POLICY,
    random: () => random,
    now: () => NOW,
  };
  return { deps, sent, queued, parked };
}

const delivery = (extra: Partial<WebhookDelivery> = {}): WebhookDelivery => ({
  subscriptionId: 'sub_1',
  event,
  attempt: 1,
  firstAttemptAt: NOW.toISOString(),
  ...extra,
});

describe('deliverWebhook', () => {
  it('a wait still longer than 900 s is passed on as one more 900 s hop, nothing sent', async () => {
    const h = harness({ delivered: true, status: 200 });
    const notBefore = new Date(NOW.getTime() + 3600_000).toISOString();
    await expect(deliverWebhook(h.deps, delivery({ attempt: 12, notBefore }))).resolves.toMatchObject({ kind: 'waiting', notBefore });
    expect(h.sent).toEqual([]);
    expect(h.queued).toEqual([{ deliveries: [delivery({ attempt: 12, notBefore })], delaySeconds: 900 }]);
  });

  it('the last hop waits only what is left; a due delivery is sent', async () => {
    const h = harness({ delivered: true, status: 204 });
    await deliverWebhook(h.deps, delivery({ notBefore: new Date(NOW.getTime() + 42_300).toISOString() }));
    expect(h.queued[0]!.delaySeconds).toBe(43);
    await expect(deliverWebhook(h.deps, delivery({ notBefore: NOW.toISOString() }))).resolves.toMatchObject({ kind: 'delivered', status: 204 });
    expect(h.sent).toHaveLength(1);
  });

  it('a retry whose backoff exceeds 900 s is queued as a 900 s hop carrying notBefore, same event, next attempt', async () => {
    const h = harness({ delivered: false, status: 503, error: 'HTTP 503' }, 0.99);
    const result = await deliverWebhook(h.deps, delivery({ attempt: 9 })); // ceiling 2560 s
    expect(result).toMatchObject({ kind: 'retried', delaySeconds: 2535 });
    expect(h.queued).toEqual([
      {
        deliveries: [{ ...delivery(), attempt: 10, lastError: 'HTTP 503', notBefore: new Date(NOW.getTime() + 2535_000).toISOString() }],
        delaySeconds: 900,
      },
    ]);
  });

  it('unknown subscription → dropped; budget spent → parked with parkedAt and the error, not retried', async () => {
    const h = harness({ delivered: false, status: null, error: 'timeout' });
    await expect(deliverWebhook(h.deps, { ...delivery(), subscriptionId: 'sub_gone' })).resolves.toMatchObject({ kind: 'dropped' });
    const old = new Date(NOW.getTime() - 24 * 3600_000).toISOString();
    await expect(deliverWebhook(h.deps, delivery({ attempt: 20, firstAttemptAt: old }))).resolves.toMatchObject({ kind: 'parked', error: 'timeout' });
    expect(h.parked).toEqual([{ ...delivery({ attempt: 20, firstAttemptAt: old }), parkedAt: NOW.toISOString(), lastError: 'timeout' }]);
    expect(h.queued).toEqual([]);
  });
});

describe('the HTTP adapter refuses internal addresses when loopback is not allowed', () => {
  let server: ReturnType<typeof createServer>;
  let port: number;
  let hits = 0;
  beforeAll(async () => {
    server = createServer((_req, res) => {
      hits++;
      res.writeHead(200).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => new Promise<void>((resolve) => server.close(() => resolve())));

  const request = () => webhookRequest(event, [newWebhookSecret()], new Date());

  it('at delivery time: a name resolving to loopback (DNS answer checked on connect), a literal, http at all → failed attempts, nothing sent', async () => {
    const guarded = new UndiciWebhookSender({ allowLoopback: false, timeoutMs: 2000 });
    try {
      const viaName = await guarded.send(`https://localhost:${port}/x`, request());
      expect(viaName).toEqual({ delivered: false, status: null, error: expect.stringMatching(/^refused: localhost resolves to a loopback address/) });
      await expect(guarded.send(`https://127.0.0.1:${port}/x`, request())).resolves.toMatchObject({
        delivered: false,
        error: expect.stringMatching(/loopback/),
      });
      await expect(guarded.send(`http://127.0.0.1:${port}/x`, request())).resolves.toMatchObject({ delivered: false, error: expect.stringMatching(/https/) });
      expect(hits).toBe(0);
    } finally {
      await guarded.close();
    }
    const local = new UndiciWebhookSender({ allowLoopback: true });
    try {
      await expect(local.send(`http://127.0.0.1:${port}/x`, request())).resolves.toEqual({ delivered: true, status: 200 });
      expect(hits).toBe(1);
    } finally {
      await local.close();
    }
  });

  it('at subscription time: every resolved address must be public; an unknown host is refused; a failing resolver is a 503', async () => {
    const guard = (addresses: string[] | Error) =>
      new WebhookUrlGuard(false, async () => {
        if (addresses instanceof Error) throw addresses;
        return addresses;
      });
    await expect(guard(['93.184.215.14']).check('https://hooks.example.com/x')).resolves.toBeNull();
    await expect(guard(['93.184.215.14', '10.0.0.7']).check('https://hooks.example.com/x')).resolves.toBe('host resolves to a private address');
    await expect(guard(['fd00:ec2::254']).check('https://hooks.example.com/x')).resolves.toBe('host resolves to a uniqueLocal address');
    await expect(guard(Object.assign(new Error('nx'), { code: 'ENOTFOUND' })).check('https://nx.example.com/x')).resolves.toBe('host does not resolve');
    await expect(guard(Object.assign(new Error('later'), { code: 'EAI_AGAIN' })).check('https://hooks.example.com/x')).rejects.toMatchObject({
      kind: 'UNAVAILABLE',
    });
    await expect(new WebhookUrlGuard(true).check('https://10.0.0.1/x')).resolves.toBeNull(); // npm start: no address guard
  });
});
