/**
 * @module rest/openapi
 * `GET /openapi.json`: an OpenAPI 3.1 description generated from the routes' own zod schemas
 * (the ones that validate the requests), so the description cannot drift from the server.
 */
import { z } from 'zod';
import { ERROR_CATALOG } from '../errors.js';
import { VERSION } from '../version.js';
import type { RestRoute } from './route.js';

const ErrorBody = z.object({
  error: z.object({
    message: z.string(),
    type: z.string().describe('OpenAI error type (invalid_request_error, authentication_error, ...).'),
    param: z.string().nullable(),
    code: z.enum(Object.keys(ERROR_CATALOG) as [keyof typeof ERROR_CATALOG]).describe('Stable code from the error catalog.'),
    retryable: z.boolean(),
    retry_after_ms: z.number().optional(),
  }),
});

/** JSON Schema of a zod schema, as a request (`input`: defaults are optional) or a response. */
function schemaOf(t: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const { $schema: _drop, ...rest } = z.toJSONSchema(t, { io, unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
}

/** The description of `routes`; `auth` adds the bearer and API-key schemes. */
export function openapiDocument(routes: RestRoute[], auth: boolean): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    if (r.doc.hidden) continue;
    const params = [...r.path.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
    const content: Record<string, unknown> = {};
    if (r.doc.body) content['application/json'] = { schema: schemaOf(r.doc.body, 'input') };
    if (r.doc.multipart) content['multipart/form-data'] = { schema: schemaOf(r.doc.multipart, 'input') };
    const ok: Record<string, unknown> = {};
    ok['application/json'] = r.doc.response ? { schema: schemaOf(r.doc.response, 'output') } : {};
    for (const t of r.doc.alsoProduces ?? []) ok[t] = {};
    paths[r.path] ??= {};
    paths[r.path]![r.method.toLowerCase()] = {
      summary: r.doc.summary,
      tags: [r.doc.tag],
      ...(params.length ? { parameters: params } : {}),
      ...(Object.keys(content).length ? { requestBody: { required: true, content } } : {}),
      responses: {
        200: { description: 'OK', content: ok },
        default: {
          description: 'Error (status and code from the error catalog)',
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
        },
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'hf-model-server',
      version: VERSION,
      description:
        'Local Hugging Face models over OpenAI-compatible, text-embeddings-inference-compatible and task routes. MCP is served at /mcp.',
    },
    paths,
    components: {
      schemas: { Error: schemaOf(ErrorBody, 'output') },
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'An API key or a JWT.' },
        apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
      },
    },
    security: auth ? [{ bearer: [] }, { apiKey: [] }] : [],
  };
}
