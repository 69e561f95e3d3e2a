import type { HttpEvent, HttpHandler } from '../../lambdas/http/route';
import { startGateway, type Gateway } from '../../local/gateway';
import type { HttpRoute } from '../../lambdas/topology';

// The gateway's event is what every handler sees locally: it must be the API Gateway payload 2.0 shape.
const routes: HttpRoute[] = [{ api: 'backoffice', method: 'GET', path: '/echo', handler: 'health', auth: 'iam' }];

describe('local gateway event (API Gateway payload 2.0)', () => {
  let gateway: Gateway;
  let seen: HttpEvent[];

  beforeAll(async () => {
    const echo: HttpHandler = async (event) => {
      seen.push(event);
      return { statusCode: 200, body: '{}' };
    };
    gateway = await startGateway({ port: 0, routes, loadHandler: async () => echo });
  });
  beforeEach(() => {
    seen = [];
  });
  afterAll(() => gateway.stop());

  it('moves the Cookie header into `cookies`, one entry per cookie, and out of `headers`', async () => {
    await fetch(`${gateway.url}/echo`, { headers: { cookie: 'session=abc; theme=dark;  lang=en ' } });
    expect(seen[0]?.cookies).toEqual(['session=abc', 'theme=dark', 'lang=en']);
    expect(Object.hasOwn(seen[0]!.headers, 'cookie')).toBe(false);
  });

  it('has no `cookies` when the request sends none', async () => {
    await fetch(`${gateway.url}/echo`);
    expect(seen[0]).not.toHaveProperty('cookies');
  });

  it('keeps query names that are Object.prototype members as plain own keys', async () => {
    await fetch(`${gateway.url}/echo?constructor=x&toString=y&__proto__=z&hasOwnProperty=w`);
    const query = seen[0]!.queryStringParameters!;
    expect(Object.getPrototypeOf(query)).toBe(Object.prototype);
    expect(Object.entries(query)).toEqual([
      ['constructor', 'x'],
      ['toString', 'y'],
      ['__proto__', 'z'],
      ['hasOwnProperty', 'w'],
    ]);
  });

  it('joins a repeated query parameter with commas, as API Gateway does', async () => {
    await fetch(`${gateway.url}/echo?a=1&constructor=2&a=3&constructor=4`);
    expect(seen[0]!.queryStringParameters).toEqual({ a: '1,3', constructor: '2,4' });
  });

  it('keeps header names that are Object.prototype members as own keys', async () => {
    await fetch(`${gateway.url}/echo`, { headers: { constructor: 'c' } });
    expect(Object.hasOwn(seen[0]!.headers, 'constructor')).toBe(true);
    expect(seen[0]!.headers.constructor).toBe('c');
  });
});
