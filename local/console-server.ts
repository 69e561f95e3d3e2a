/**
 * The operations console under `npm start`: built once with esbuild into a temporary folder, then served from memory
 * at `/console/` on the gateway's port, with a strict CSP and the other security headers on every answer.
 * Only `/console` and `/console/…` are handled here; every other path goes to the API routes as before.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildConsole } from '../console/build';

export const CONSOLE_PATH = '/console/';

/** Same origin only: scripts, styles, API calls; images also as data: URLs (card art). No inline code, no framing. */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export const CONSOLE_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': CONSOLE_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
};

const MEDIA_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

interface StaticFile {
  body: Buffer;
  type: string;
  cache: string;
}

export interface ConsoleSite {
  /** Answers the request and returns true when it is the console's; false leaves it to the API. */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
  url(gatewayUrl: string): string;
  stop(): Promise<void>;
}

/** Builds the console and returns its request handler. `config` is what `config.json` answers (locally `{mode: "local"}`). */
export async function startConsoleSite(options: { config?: Record<string, unknown> } = {}): Promise<ConsoleSite> {
  const dir = mkdtempSync(path.join(tmpdir(), 'token-lifecycle-console-'));
  const files = new Map<string, StaticFile>();
  try {
    await buildConsole(dir);
    for (const name of readdirSync(dir)) {
      // Built names carry a content hash and may be cached for good; index.html names them, so it is revalidated.
      const hashed = /-[A-Z0-9]{8}\.(js|css)$/.test(name);
      files.set(name, {
        body: readFileSync(path.join(dir, name)),
        type: MEDIA_TYPES[path.extname(name)] ?? 'application/octet-stream',
        cache: hashed ? 'public, max-age=31536000, immutable' : 'no-cache',
      });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  files.set('config.json', { body: Buffer.from(JSON.stringify(options.config ?? { mode: 'local' })), type: MEDIA_TYPES['.json']!, cache: 'no-store' });

  const answer = (res: ServerResponse, status: number, headers: Record<string, string>, body?: Buffer | string): void => {
    res.writeHead(status, { ...CONSOLE_SECURITY_HEADERS, ...headers }).end(body);
  };

  return {
    handle(req, res) {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (url.pathname !== '/console' && !url.pathname.startsWith(CONSOLE_PATH)) return false;
      const method = (req.method ?? 'GET').toUpperCase();
      if (method !== 'GET' && method !== 'HEAD') {
        answer(res, 405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }, 'method not allowed\n');
        return true;
      }
      if (url.pathname === '/console') {
        answer(res, 308, { location: `${CONSOLE_PATH}${url.search}`, 'content-type': 'text/plain; charset=utf-8' }, `see ${CONSOLE_PATH}\n`);
        return true;
      }
      // A flat folder: names are looked up, never joined to a path, so `..` cannot leave it.
      const name = url.pathname.slice(CONSOLE_PATH.length) || 'index.html';
      const file = files.get(name);
      if (!file) {
        answer(res, 404, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-cache' }, 'not found\n');
        return true;
      }
      answer(
        res,
        200,
        { 'content-type': file.type, 'cache-control': file.cache, 'content-length': String(file.body.length) },
        method === 'HEAD' ? undefined : file.body,
      );
      return true;
    },
    url: (gatewayUrl) => `${gatewayUrl}${CONSOLE_PATH}`,
    stop: async () => undefined,
  };
}
