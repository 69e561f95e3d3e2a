import { readFileSync } from 'node:fs';
import path from 'node:path';
import { buildOpenApiDocument } from '../../lambdas/http/openapi';
import { HTTP_ROUTES, routeKey } from '../../lambdas/topology';

const document = buildOpenApiDocument() as any;

describe('OpenAPI document', () => {
  it('describes exactly the routes of the topology', () => {
    const documented = Object.entries(document.paths as Record<string, Record<string, unknown>>).flatMap(([path, methods]) =>
      Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(documented.sort()).toEqual([...new Set(HTTP_ROUTES.map(routeKey))].sort());
  });

  it('matches docs/openapi.json (run `npm run openapi` after changing a schema)', () => {
    const committed = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'docs', 'openapi.json'), 'utf8'));
    expect(committed).toEqual(JSON.parse(JSON.stringify(document)));
  });

  it('shows enums, lengths and required lists from the zod schemas', () => {
    expect(document.openapi).toBe('3.1.0');
    const create = document.components.schemas.CreateOperation;
    expect(create.required).toEqual(['action', 'issuerCardRefId']);
    expect(create.properties.action.enum).toEqual(['SUSPEND', 'RESUME', 'DELETE']);
    expect(create.properties.issuerCardRefId).toMatchObject({ minLength: 1, maxLength: 48 });
    const callback = document.components.schemas.NotifyVirtualCardChange;
    expect(callback.required).toEqual(expect.arrayContaining(['issuerCardRefId', 'virtualCardId', 'action']));
    const headers = document.paths['/issuer/igwapi/v2.0/notifyVirtualCardChange'].post.parameters;
    expect(headers).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'x-issuer-id', in: 'header', required: true, schema: expect.objectContaining({ minLength: 10, maxLength: 10 }) }),
      ]),
    );
    const update = document.components.schemas.NotifyTokenUpdate;
    expect(JSON.stringify(update.properties.tokenLastDigits)).toContain('^[0-9]{1,5}$');
    const history = document.paths['/v1/tokens/{virtualCardId}/history'].get;
    expect(history.parameters).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: 'limit', in: 'query', schema: expect.objectContaining({ minimum: 1, maximum: 100 }) })]),
    );
  });

  it('references only components that exist', () => {
    const refs = JSON.stringify(document).match(/#\/components\/schemas\/[A-Za-z]+/g) ?? [];
    for (const ref of new Set(refs)) expect(document.components.schemas[ref.split('/').pop()!]).toBeDefined();
  });
});
