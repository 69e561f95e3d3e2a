import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import * as z from 'zod';
import { ConfigError } from '../../lambdas/config/env';
import { defineHandler } from '../../lambdas/define-handler';
import { defineSpec } from '../../lambdas/spec';
import { HANDLERS, HTTP_ROUTES, SPECS } from '../../lambdas/topology';
import { context, httpEvent } from '../support/events';

const LAMBDAS = path.resolve(__dirname, '../../lambdas');

const spec = defineSpec({
  description: 'a test entry point',
  env: ['ISSUER_ID'],
  table: 'none',
  sendsTo: [],
  routes: {
    getThing: {
      apis: ['backoffice'],
      method: 'GET',
      path: '/things/{id}',
      auth: 'iam',
      summary: 'a thing',
      request: { path: z.object({ id: z.string().max(3) }) },
      responses: { 200: z.object({ id: z.string(), size: z.number().int() }) },
      errors: [404],
    },
    dropThing: { apis: ['backoffice'], method: 'DELETE', path: '/things/{id}', auth: 'iam', summary: 'gone', responses: { 204: null }, errors: [] },
  },
});

/** Never called: these lines only have to compile, or fail to compile where marked. */
export function compileTimeChecks(): void {
  const drop = { handle: async () => ({ status: 204 as const }) };
  defineHandler(spec, (env) => env.ISSUER_ID, { getThing: { handle: async ({ path }) => ({ status: 200, body: { id: path.id, size: 1 } }) }, dropThing: drop });
  // @ts-expect-error a route the spec does not declare
  defineHandler(spec, () => 0, { getThing: { handle: async () => ({ status: 200, body: { id: 'x', size: 1 } }) }, dropThing: drop, other: drop });
  // @ts-expect-error a declared route without an implementation
  defineHandler(spec, () => 0, { dropThing: drop });
  // @ts-expect-error a status the route does not declare
  defineHandler(spec, () => 0, { getThing: { handle: async () => ({ status: 201, body: { id: 'x', size: 1 } }) }, dropThing: drop });
  // @ts-expect-error a body that is not the route's response schema
  defineHandler(spec, () => 0, { getThing: { handle: async () => ({ status: 200, body: { id: 'x' } }) }, dropThing: drop });
  // @ts-expect-error a variable the spec does not declare
  defineHandler(spec, (env) => env.TABLE_NAME, { getThing: { handle: async () => ({ status: 200, body: { id: 'x', size: 1 } }) }, dropThing: drop });
}

describe('defineHandler', () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  it('validates the spec’s plain variables when the module loads, naming the bad one', () => {
    process.env.ISSUER_ID = 'too-short';
    expect(() =>
      defineHandler(spec, () => 0, {
        getThing: { handle: async () => ({ status: 200, body: { id: 'x', size: 1 } }) },
        dropThing: { handle: async () => ({ status: 204 }) },
      }),
    ).toThrow(ConfigError);
  });

  it('dispatches by route key, composes once, and checks each response against the route’s schema', async () => {
    process.env.ISSUER_ID = 'ISSUER0001';
    let composed = 0;
    const handler = defineHandler(
      spec,
      (env) => {
        composed++;
        return { issuer: env.ISSUER_ID };
      },
      {
        // The size is a string here: the spec says integer.
        getThing: { handle: async ({ path }) => ({ status: 200, body: { id: path.id, size: (path.id === 'bad' ? 'big' : 3) as number } }) },
        dropThing: { handle: async () => ({ status: 204 }) },
      },
    );
    const get = (id: string) => handler(httpEvent({ method: 'GET', path: `/things/${id}`, routeKey: 'GET /things/{id}', pathParameters: { id } }), context());
    expect(await get('ok')).toMatchObject({ statusCode: 200, body: JSON.stringify({ id: 'ok', size: 3 }) });
    expect((await get('bad')).statusCode).toBe(500);
    expect((await get('long')).statusCode).toBe(404); // the path schema says at most 3 characters
    expect(
      (await handler(httpEvent({ method: 'DELETE', path: '/things/x', routeKey: 'DELETE /things/{id}', pathParameters: { id: 'x' } }), context())).statusCode,
    ).toBe(204);
    expect(composed).toBe(1);
  });
});

describe('the specs', () => {
  it('every spec has its handler module, and every handler module has a spec in the topology', () => {
    const modules = readdirSync(path.join(LAMBDAS, 'handlers'))
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.spec.ts'))
      .map((f) => f.replace(/\.ts$/, ''));
    expect(modules.sort()).toEqual(Object.keys(SPECS).sort());
    for (const name of Object.keys(SPECS)) expect(existsSync(path.join(LAMBDAS, 'handlers', `${name}.spec.ts`))).toBe(true);
  });

  it('each handler module builds itself with defineHandler from its own spec', () => {
    for (const name of Object.keys(SPECS)) {
      const source = readFileSync(path.join(LAMBDAS, 'handlers', `${name}.ts`), 'utf8');
      expect(source).toMatch(/export const handler = defineHandler\(\s*spec,/);
      expect(source).toContain(`from './${name}.spec'`);
    }
  });

  it('runtime code reads configuration only through the spec’s env (no process.env outside config/)', () => {
    const offenders: string[] = [];
    const walk = (dir: string): void => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const file = path.join(dir, entry.name);
        if (entry.isDirectory()) walk(file);
        else if (file.endsWith('.ts') && !file.includes(`${path.sep}config${path.sep}`)) {
          // Two platform switches are read where they act: the log level and the local SQS endpoint, plus the
          // local response check.
          const reads = readFileSync(file, 'utf8').match(/process\.env\.[A-Z_]+/g) ?? [];
          for (const read of reads) {
            if (!['process.env.LOG_LEVEL', 'process.env.AWS_ENDPOINT_URL_SQS', 'process.env.CHECK_RESPONSES'].includes(read))
              offenders.push(`${path.relative(LAMBDAS, file)}: ${read}`);
          }
        }
      }
    };
    walk(LAMBDAS);
    expect(offenders).toEqual([]);
  });

  it('derives the routes and the needs CDK grants from: the credentials Lambda gets DATA_KEY, as it reads it', () => {
    expect(HANDLERS['network-token-credentials'].env).toContain('DATA_KEY');
    expect(
      HTTP_ROUTES.filter((r) => r.path === '/health')
        .map((r) => r.api)
        .sort(),
    ).toEqual(['backoffice', 'webhooks']);
  });
});
