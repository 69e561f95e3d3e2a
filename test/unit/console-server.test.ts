import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildConsoleSync } from '../../console/build';
import { allowedActions } from '../../console/src/pages/token';
import { findCardArt } from '../../console/src/pages/network-token';
import { startGateway, type Gateway } from '../../local/gateway';
import { CONSOLE_CSP, startConsoleSite } from '../../local/console-server';

/** The console's build and its static server under npm start (the pages themselves: test/browser/). */
describe('buildConsoleSync', () => {
  it('writes index.html, one JS bundle and one CSS file, with no inline script or style', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'console-build-'));
    try {
      buildConsoleSync(dir);
      const files = readdirSync(dir);
      const js = files.find((f) => f.endsWith('.js'))!;
      const css = files.find((f) => f.endsWith('.css'))!;
      expect([files.length, js, css]).toEqual([3, expect.stringMatching(/^app-\w+\.js$/), expect.stringMatching(/^app-\w+\.css$/)]);
      const html = readFileSync(path.join(dir, 'index.html'), 'utf8');
      expect(html).toContain(`<script type="module" src="${js}"></script>`);
      expect(html).toContain(`<link rel="stylesheet" href="${css}" />`);
      expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>|<style|\sstyle=|\son\w+=/i);
      // The console never asks for a token PAN.
      expect(readFileSync(path.join(dir, js), 'utf8')).not.toContain('token-pan');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the console on the local gateway', () => {
  let gateway: Gateway;
  beforeAll(async () => {
    const site = await startConsoleSite();
    // No API route in this gateway: a request the console does not take falls to the $default handler stand-in.
    gateway = await startGateway({
      port: 0,
      routes: [],
      intercept: site.handle,
      loadHandler: async () => async () => ({ statusCode: 404, body: '{"error":{"code":"NOT_FOUND","message":"no route"}}' }),
    });
  }, 30_000);
  afterAll(() => gateway.stop());

  const send = (method: string, pathname: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> =>
    new Promise((resolve, reject) => {
      const req = request(`${gateway.url}${pathname}`, { method }, (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      });
      req.on('error', reject);
      req.end();
    });

  it.each([
    ['GET', '/console', 308],
    ['GET', '/console/', 200],
    ['HEAD', '/console/', 200],
    ['GET', '/console/config.json', 200],
    ['GET', '/console/missing.js', 404],
    ['GET', '/console/..%2fpackage.json', 404],
    ['GET', '/console/%2e%2e%2f%2e%2e%2fpackage.json', 404],
    ['POST', '/console/', 405],
  ])('%s %s → %i, with the security headers', async (method, pathname, status) => {
    const res = await send(method, pathname);
    expect(res.status).toBe(status);
    expect(res.headers).toMatchObject({
      'content-security-policy': CONSOLE_CSP,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      'x-frame-options': 'DENY',
    });
  });

  it('redirects /console to /console/ (query kept), answers {"mode":"local"} and serves the bundle', async () => {
    expect((await send('GET', '/console?x=1')).headers.location).toBe('/console/?x=1');
    expect(JSON.parse((await send('GET', '/console/config.json')).body)).toEqual({ mode: 'local' });
    const index = await send('GET', '/console/');
    const js = /src="([^"]+\.js)"/.exec(index.body)![1]!;
    const bundle = await send('GET', `/console/${js}`);
    expect([bundle.status, bundle.headers['content-type'], bundle.headers['cache-control']]).toEqual([
      200,
      'text/javascript; charset=utf-8',
      'public, max-age=31536000, immutable',
    ]);
  });

  it('leaves every other path to the API', async () => {
    // `..` segments are resolved before routing: /console/../x is /x, never a file beside the console's.
    for (const pathname of ['/consoles', '/v1/tokens/vc-1', '/', '/console/../package.json', '/console/%2e%2e/package.json'])
      expect((await send('GET', pathname)).status).toBe(404);
    expect((await send('GET', '/consoles')).headers['content-security-policy']).toBeUndefined();
  });
});

describe('console rules', () => {
  it('offers Suspend only on ACTIVE, Resume only on SUSPENDED, nothing on DELETED', () => {
    expect(allowedActions('ACTIVE')).toEqual(['SUSPEND', 'DELETE']);
    expect(allowedActions('SUSPENDED')).toEqual(['RESUME', 'DELETE']);
    expect(allowedActions('INACTIVE')).toEqual(['DELETE']);
    expect(allowedActions('DELETED')).toEqual([]);
  });

  it('finds card art: a data: image first, else an https URL, else nothing', () => {
    const png = 'data:image/png;base64,iVBORw0KGgo=';
    expect(findCardArt({ logo: { url: 'https://art.example/logo.png' }, image: png })).toEqual({ kind: 'data', src: png });
    expect(findCardArt({ logo: { url: 'https://art.example/logo.png', width: 64 } })).toEqual({ kind: 'https', src: 'https://art.example/logo.png' });
    expect(findCardArt({ background: '#112233', script: 'javascript:alert(1)', html: 'data:text/html;base64,PHNjcmlwdD4=' })).toBeUndefined();
  });
});
