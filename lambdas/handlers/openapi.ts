import { defineHandler } from '../http/define-routes';
import { buildOpenApiDocument } from '../http/openapi';
import { spec } from './openapi.spec';

/** `GET /openapi.json` — the OpenAPI 3.1 document of every route, generated from the handler specs. */
export const handler = defineHandler(
  spec,
  // Built once per cold start: it only depends on the code.
  () => ({ document: buildOpenApiDocument() }),
  { openapi: { handle: async (_request, { document }) => ({ status: 200, body: document }) } },
);
