import * as z from 'zod';
import { ROUTE_SPECS, SERVICE_NAME } from '../topology';
import { errorBodySchema } from './error-body';

type Schema = z.core.$ZodType;

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

/**
 * Every route of DESIGN §3, described with the very zod schemas the handlers validate with (their specs): the
 * document cannot say one thing while the handlers check another. docs/openapi.json is compared with it by a test.
 */
export function buildOpenApiDocument(): JsonSchema {
  const components: Record<string, JsonSchema> = {};
  const convert = converter(components);
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const { name, route } of ROUTE_SPECS) {
    const request = route.request ?? {};
    const responses: [number, Schema | null][] = [
      ...Object.entries(route.responses).map(([status, schema]): [number, Schema | null] => [Number(status), schema]),
      ...route.errors.map((status): [number, Schema] => [status, errorBodySchema]),
    ];
    paths[route.path] ??= {};
    paths[route.path]![route.method.toLowerCase()] = {
      summary: route.summary,
      operationId: name,
      tags: [...route.apis],
      parameters: [
        ...parameters(request.path, 'path', convert, components),
        ...parameters(request.query, 'query', convert, components),
        ...parameters(request.headers, 'header', convert, components),
      ],
      ...(request.body ? { requestBody: { required: true, content: { 'application/json': { schema: convert(request.body, 'input') } } } } : {}),
      responses: Object.fromEntries(
        responses
          .sort(([a], [b]) => a - b)
          .map(([status, schema]) => [
            String(status),
            { description: String(status), ...(schema ? { content: { 'application/json': { schema: convert(schema, 'output') } } } : {}) },
          ]),
      ),
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: SERVICE_NAME, version: '1.0.0', description: 'Keeps payment tokens in sync with Thales D1 (contract: docs/design.md §3).' },
    paths,
    components: { schemas: Object.fromEntries(Object.entries(components).sort(([a], [b]) => a.localeCompare(b))) },
  };
}
