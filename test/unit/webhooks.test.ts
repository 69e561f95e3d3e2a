import fc from 'fast-check';
import { Webhook } from 'standardwebhooks';
import {
  afterFailure,
  backoffCeilingSeconds,
  backoffSeconds,
  classifyAddress,
  hop,
  isLoopbackHost,
  isWebhookSecret,
  newWebhookSecret,
  resolvedAddressProblem,
  SQS_MAX_DELAY_SECONDS,
  urlProblem,
  WEBHOOK_RETRY_POLICY,
  webhookRequest,
} from '../../lambdas/domain/webhooks';

/** DESIGN §8 webhooks, the pure parts: the SSRF address classes, the retry schedule, secrets and signature headers. */

describe('classifyAddress: only public unicast is allowed', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['::1', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'linkLocal'], // the instance metadata service
    ['169.254.0.1', 'linkLocal'],
    ['fe80::1', 'linkLocal'],
    ['fe80::1%eth0', 'linkLocal'],
    ['fd00:ec2::254', 'uniqueLocal'], // the metadata service over IPv6
    ['fc00::1', 'uniqueLocal'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['100.64.0.1', 'carrierGradeNat'],
    ['100.127.255.254', 'carrierGradeNat'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['240.0.0.1', 'reserved'],
    ['64:ff9b::a00:1', 'rfc6052'], // NAT64 of 10.0.0.1
    ['2002:a00:1::', '6to4'],
    ['not-an-ip', 'invalid'],
  ])('%s → refused (%s)', (address, range) => {
    expect(classifyAddress(address)).toEqual({ allowed: false, range });
  });

  it.each([
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:169.254.169.254', 'linkLocal'],
    ['::ffff:100.64.0.1', 'carrierGradeNat'],
    ['[::ffff:192.168.0.1]', 'private'],
  ])('IPv4-mapped IPv6 %s is judged as the IPv4 it carries (%s)', (address, range) => {
    expect(classifyAddress(address)).toEqual({ allowed: false, range });
  });

  it.each(['8.8.8.8', '1.1.1.1', '52.94.236.248', '2606:4700:4700::1111', '2a00:1450:4001:80b::200e', '::ffff:8.8.8.8', '[2606:4700::1]'])(
    '%s → allowed',
    (address) => {
      expect(classifyAddress(address)).toEqual({ allowed: true });
    },
  );

  it('property: every IPv4 in 10/8, 127/8, 169.254/16, 100.64/10 is refused, as itself and IPv4-mapped', () => {
    const octet = fc.integer({ min: 0, max: 255 });
    const blocked = fc.oneof(
      fc.tuple(octet, octet, octet).map(([b, c, d]) => `10.${b}.${c}.${d}`),
      fc.tuple(octet, octet, octet).map(([b, c, d]) => `127.${b}.${c}.${d}`),
      fc.tuple(octet, octet).map(([c, d]) => `169.254.${c}.${d}`),
      fc.tuple(fc.integer({ min: 64, max: 127 }), octet, octet).map(([b, c, d]) => `100.${b}.${c}.${d}`),
    );
    fc.assert(
      fc.property(blocked, (ip) => {
        expect(classifyAddress(ip).allowed).toBe(false);
        expect(classifyAddress(`::ffff:${ip}`).allowed).toBe(false);
      }),
    );
  });

  it('resolvedAddressProblem refuses a host when any one of its addresses is refused', () => {
    expect(resolvedAddressProblem(['8.8.8.8', '2606:4700:4700::1111'])).toBeNull();
    expect(resolvedAddressProblem(['8.8.8.8', '10.0.0.1'])).toBe('resolves to a private address');
    expect(resolvedAddressProblem([])).toBe('does not resolve');
  });
});

describe('urlProblem: the form of a webhook URL', () => {
  it.each([
    ['https://hooks.example.com/x', false],
    ['https://8.8.8.8/x', false],
    ['http://127.0.0.1:3200/events/a', true],
    ['http://localhost:3200/events/a', true],
    ['http://[::1]:3200/events/a', true],
    ['https://hooks.example.com/x', true],
  ])('%s is fine (loopback allowed: %s)', (url, allowLoopback) => {
    expect(urlProblem(url, allowLoopback)).toBeNull();
  });

  it.each([
    ['http://hooks.example.com/x', true, /must be https/],
    ['http://127.0.0.1:3200/x', false, /must be https/],
    ['ftp://hooks.example.com/x', true, /must be https/],
    ['https://user:pw@hooks.example.com/x', false, /credentials/],
    ['https://10.0.0.1/x', false, /private/],
    ['https://169.254.169.254/latest/meta-data', false, /linkLocal/],
    ['https://[fd00:ec2::254]/', false, /uniqueLocal/],
    ['https://[::ffff:127.0.0.1]/', false, /loopback/],
    ['https://2130706433/', false, /loopback/], // 127.0.0.1 spelled as one number: the URL parser normalises it
    ['https://0x7f.1/', false, /loopback/],
    ['not a url', false, /URL/],
  ])('%s is refused (loopback allowed: %s)', (url, allowLoopback, message) => {
    expect(urlProblem(url, allowLoopback)).toMatch(message);
  });

  it('isLoopbackHost: localhost, 127/8 and ::1 only', () => {
    expect(['localhost', 'LOCALHOST', 'a.localhost', '127.0.0.1', '127.9.9.9', '[::1]'].every(isLoopbackHost)).toBe(true);
    expect(['example.com', '10.0.0.1', '[::2]', 'localhost.example.com'].some(isLoopbackHost)).toBe(false);
  });
});

describe('the retry schedule: exponential backoff with full jitter, ≥ 24 h, SQS hops', () => {
  const policy = WEBHOOK_RETRY_POLICY;

  it('ceilings double from the base up to the cap', () => {
    expect([1, 2, 3, 4].map((a) => backoffCeilingSeconds(a))).toEqual([10, 20, 40, 80]);
    expect(backoffCeilingSeconds(50)).toBe(policy.capSeconds);
    expect(backoffCeilingSeconds(10_000)).toBe(policy.capSeconds);
  });

  it('property: every delay is a whole number of seconds in [1, ceiling(attempt)]', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (attempt, random) => {
        const delay = backoffSeconds(attempt, random);
        expect(Number.isInteger(delay)).toBe(true);
        expect(delay).toBeGreaterThanOrEqual(1);
        expect(delay).toBeLessThanOrEqual(backoffCeilingSeconds(attempt));
      }),
    );
  });

  it('property: whatever the draws, a delivery is parked only after ≥ 24 h of attempts, and within a bounded number of them', () => {
    const first = new Date('2026-01-01T00:00:00.000Z');
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), { minLength: 1, maxLength: 50 }), (draws) => {
        // Plain arithmetic in the loop (a run of zero draws takes a day of 1 s retries); the checks come after it.
        let elapsedMs = 0;
        let attempt = 1;
        let retriedPastBudget = false;
        for (; ; attempt++) {
          const decision = afterFailure(attempt, first.toISOString(), new Date(first.getTime() + elapsedMs), draws[(attempt - 1) % draws.length]!);
          if (decision.kind === 'park') break;
          if (elapsedMs >= policy.budgetMs) retriedPastBudget = true;
          elapsedMs += decision.delaySeconds * 1000;
        }
        expect(retriedPastBudget).toBe(false);
        expect(elapsedMs).toBeGreaterThanOrEqual(policy.budgetMs);
        // The 1 s floor bounds the attempts by the budget in seconds, however unlucky the draws.
        expect(attempt).toBeLessThanOrEqual(policy.budgetMs / 1000 + 1);
      }),
      { numRuns: 10 },
    );
  });

  it('with average draws the day takes about twenty attempts, not hundreds', () => {
    const first = Date.parse('2026-01-01T00:00:00.000Z');
    let now = first;
    let attempt = 1;
    while (afterFailure(attempt, new Date(first).toISOString(), new Date(now), 0.5).kind === 'retry') {
      now += backoffSeconds(attempt, 0.5) * 1000;
      attempt++;
    }
    expect(attempt).toBeGreaterThan(10);
    expect(attempt).toBeLessThan(40);
  });

  it('a wait up to 900 s is one SQS delay; a longer one is a 900 s hop and notBefore', () => {
    const now = new Date('2026-01-01T00:00:00.000Z');
    expect(hop(0, now)).toEqual({ delaySeconds: 0 });
    expect(hop(899.2, now)).toEqual({ delaySeconds: 900 });
    expect(hop(SQS_MAX_DELAY_SECONDS, now)).toEqual({ delaySeconds: 900 });
    expect(hop(3600, now)).toEqual({ delaySeconds: 900, notBefore: '2026-01-01T01:00:00.000Z' });
  });
});

describe('secrets and Standard Webhooks headers', () => {
  const event = { id: 'evt_1', type: 'token.created', timestamp: '2026-01-01T00:00:00.000Z', data: { virtualCardId: 'vc-1' } };
  const at = new Date('2026-01-01T00:00:05.500Z');

  it('a new secret is whsec_ + base64 of 32 random bytes, different every time', () => {
    const a = newWebhookSecret();
    expect(isWebhookSecret(a)).toBe(true);
    expect(Buffer.from(a.slice('whsec_'.length), 'base64')).toHaveLength(32);
    expect(newWebhookSecret()).not.toBe(a);
  });

  it('headers: webhook-id = event id, unix-seconds timestamp, v1 signature, JSON body of the event', () => {
    const secret = newWebhookSecret();
    const request = webhookRequest(event, [secret], at);
    expect(request.headers).toEqual({
      'webhook-id': 'evt_1',
      'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
      'webhook-signature': new Webhook(secret).sign('evt_1', at, request.body),
      'content-type': 'application/json',
    });
    expect(request.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(JSON.parse(request.body)).toEqual(event);
  });

  it('during a rotation: two signatures, new then old, space-separated, each verifying with its own secret only', () => {
    const [current, previous, other] = [newWebhookSecret(), newWebhookSecret(), newWebhookSecret()];
    const request = webhookRequest(event, [current, previous], at);
    const signatures = request.headers['webhook-signature'].split(' ');
    expect(signatures).toEqual([new Webhook(current).sign('evt_1', at, request.body), new Webhook(previous).sign('evt_1', at, request.body)]);
    for (const secret of [current, previous]) {
      const verifier = new Webhook(secret);
      // verify() checks the timestamp against the clock: sign with "now" for this part.
      const fresh = webhookRequest(event, [current, previous], new Date());
      expect(verifier.verify(fresh.body, fresh.headers)).toEqual(event);
    }
    const fresh = webhookRequest(event, [current, previous], new Date());
    expect(() => new Webhook(other).verify(fresh.body, fresh.headers)).toThrow();
  });

  it('no secret, no request', () => {
    expect(() => webhookRequest(event, [], at)).toThrow();
  });
});
