import { httpRoute } from '../http/route';
import { buildOpenApiDocument } from '../http/openapi';

// Built once per cold start: it only depends on the code.
const document = buildOpenApiDocument();

/** `GET /openapi.json` — the OpenAPI 3.1 document of every route, generated from the handlers' zod schemas. */
export const handler = httpRoute({ name: 'openapi' }, async () => ({ status: 200, body: document }));
