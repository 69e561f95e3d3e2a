import * as z from 'zod';
import {
  cardTokensSchema,
  createOperationBody,
  createOperationHeaders,
  createTransactionBody,
  errorBodySchema,
  historySchema,
  issuerCardRefIdPath,
  networkTokenSchema,
  notifyTokenUpdateBody,
  notifyTokenUpdateHeaders,
  notifyVirtualCardChangeBody,
  notifyVirtualCardChangeHeaders,
  operationIdPath,
  operationSchema,
  pageQuery,
  reconcileResultSchema,
  tokenIdPath,
  tokenPanSchema,
  tokenSchema,
  transactionSchema,
  virtualCardIdPath,
} from '../domain/schemas';
import { HTTP_ROUTES, routeKey, SERVICE_NAME } from '../topology';

type Schema = z.ZodType;

interface RouteDoc {
  summary: string;
  headers?: Schema;
  query?: Schema;
  path?: Schema;
  body?: Schema;
  /** Status → response schema (undefined = no body). Error statuses share the §3 error body. */
  responses: Record<number, Schema | undefined>;
}

const healthSchema = z.object({ status: z.literal('ok') }).meta({ id: 'Health' });
const errors = (...statuses: number[]): Record<number, Schema> => Object.fromEntries(statuses.map((s) => [s, errorBodySchema]));

/**
 * Every route of DESIGN §3, described with the very zod schemas the handlers validate with (lambdas/domain/schemas.ts):
 * the document cannot say one thing while the handlers check another. A test fails if a route of the topology is
 * missing here, and docs/openapi.json is compared with this generator.
 */
export const ROUTE_DOCS: Record<string, RouteDoc> = {
  'GET /health': { summary: 'Liveness', responses: { 200: healthSchema } },
  'GET /openapi.json': { summary: 'This document', responses: { 200: undefined } },
  'POST /issuer/igwapi/v2.0/notifyVirtualCardChange': {
    summary: 'D1 callback: a token changed (our operation, wallet, TSP, renewal)',
    headers: notifyVirtualCardChangeHeaders,
    body: notifyVirtualCardChangeBody,
    responses: { 200: z.object({}), ...errors(400, 403, 413, 415, 503) },
  },
  'POST /tsh-cof/notify-token-update': {
    summary: 'D1 to the token requestor: a network token changed',
    headers: notifyTokenUpdateHeaders,
    body: notifyTokenUpdateBody,
    responses: { 204: undefined, ...errors(400, 401, 413, 415, 503) },
  },
  'POST /v1/lcm-operations': {
    summary: 'Suspend, resume or delete one token (virtualCardId) or every token of a card',
    headers: createOperationHeaders,
    body: createOperationBody,
    responses: { 202: operationSchema, 200: operationSchema, ...errors(400, 409, 413, 415, 422, 503) },
  },
  'GET /v1/lcm-operations/{operationId}': { summary: 'An operation', path: operationIdPath, responses: { 200: operationSchema, ...errors(404) } },
  'GET /v1/tokens/{virtualCardId}': { summary: 'A token', path: virtualCardIdPath, responses: { 200: tokenSchema, ...errors(404) } },
  'GET /v1/tokens/{virtualCardId}/history': {
    summary: "A token's audit trail, oldest first",
    path: virtualCardIdPath,
    query: pageQuery,
    responses: { 200: historySchema, ...errors(400, 404) },
  },
  'GET /v1/cards/{issuerCardRefId}/tokens': {
    summary: "A card's tokens, DELETED included",
    path: issuerCardRefIdPath,
    query: pageQuery,
    responses: { 200: cardTokensSchema, ...errors(400) },
  },
  'POST /v1/cards/{issuerCardRefId}/reconcile': {
    summary: "Repair drift against D1 getCardInfo and settle the card's waiting operations",
    path: issuerCardRefIdPath,
    responses: { 200: reconcileResultSchema, ...errors(502, 503) },
  },
  'GET /v1/network-tokens/{tokenId}': { summary: 'A network token (never its PAN)', path: tokenIdPath, responses: { 200: networkTokenSchema, ...errors(404) } },
  'GET /v1/network-tokens/{tokenId}/token-pan': {
    summary: 'Stored credentials for merchant-initiated payments (separate permission, audit-logged)',
    path: tokenIdPath,
    responses: { 200: tokenPanSchema, ...errors(404) },
  },
  'POST /v1/network-tokens/{tokenId}/transactions': {
    summary: 'D1 Create Transaction: fresh token PAN and cryptogram',
    path: tokenIdPath,
    body: createTransactionBody,
    responses: { 201: transactionSchema, ...errors(400, 404, 409, 413, 415, 502, 503) },
  },
};

type JsonSchema = Record<string, unknown>;

/** zod → JSON Schema 2020-12 (what OpenAPI 3.1 uses); named schemas (`.meta({ id })`) become components. */
function converter(components: Record<string, JsonSchema>) {
  return (schema: Schema, io: 'input' | 'output'): JsonSchema => {
    const json = z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as JsonSchema;
    const defs = (json.$defs ?? {}) as Record<string, JsonSchema>;
    for (const [id, def] of Object.entries(defs)) components[id] = rewriteRefs(def);
    const { $schema: _schema, $defs: _defs, ...rest } = json;
    return rewriteRefs(rest);
  };
}

function rewriteRefs<T>(value: T): T {
  if (Array.isArray(value)) return value.map(rewriteRefs) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, k === '$ref' && typeof v === 'string' ? v.replace('#/$defs/', '#/components/schemas/') : rewriteRefs(v)]),
    ) as T;
  }
  return value;
}

function parameters(
  schema: Schema | undefined,
  where: 'header' | 'query' | 'path',
  convert: ReturnType<typeof converter>,
  components: Record<string, JsonSchema>,
): JsonSchema[] {
  if (!schema) return [];
  const json = convert(schema, 'input');
  // A named schema comes back as a $ref; parameters need its properties.
  const resolved = typeof json.$ref === 'string' ? (components[json.$ref.split('/').pop() ?? ''] ?? {}) : json;
  const properties = (resolved.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((resolved.required ?? []) as string[]);
  return Object.entries(properties).map(([name, property]) => ({ name, in: where, required: where === 'path' || required.has(name), schema: property }));
}

export function buildOpenApiDocument(): JsonSchema {
  const components: Record<string, JsonSchema> = {};
  const convert = converter(components);
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const [key, doc] of Object.entries(ROUTE_DOCS)) {
    const [method = 'GET', path = '/'] = key.split(' ');
    const api = HTTP_ROUTES.filter((r) => routeKey(r) === key).map((r) => r.api);
    paths[path] ??= {};
    paths[path][method.toLowerCase()] = {
      summary: doc.summary,
      operationId: key.replace(/[^A-Za-z0-9]+/g, '_').replace(/^_|_$/g, ''),
      ...(api.length > 0 ? { tags: [...new Set(api)] } : {}),
      parameters: [
        ...parameters(doc.path, 'path', convert, components),
        ...parameters(doc.query, 'query', convert, components),
        ...parameters(doc.headers, 'header', convert, components),
      ],
      ...(doc.body ? { requestBody: { required: true, content: { 'application/json': { schema: convert(doc.body, 'input') } } } } : {}),
      responses: Object.fromEntries(
        Object.entries(doc.responses).map(([status, schema]) => [
          status,
          { description: status, ...(schema ? { content: { 'application/json': { schema: convert(schema, 'output') } } } : {}) },
        ]),
      ),
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: SERVICE_NAME, version: '1.0.0', description: 'Keeps payment tokens in sync with Thales D1 (contract: DESIGN §3).' },
    paths,
    components: { schemas: Object.fromEntries(Object.entries(components).sort(([a], [b]) => a.localeCompare(b))) },
  };
}
