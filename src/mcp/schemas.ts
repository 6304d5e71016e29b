/**
 * @module mcp/schemas
 * A task's zod shape as the schema the SDK registers: it advertises the shape's JSON Schema
 * (made once per shape, not per list call or per per-request server), and its validation
 * passes every value through unchanged. Arguments are validated once, by the task layer's
 * parseArgs, which gives the catalogue's `invalid_input` with the field named; outputs are made
 * by the tasks from typed values and checked by the tests' clients, not re-parsed per call.
 * Both through the Standard Schema interface the SDK's registerTool takes.
 */
import { z } from 'zod';
import type { StandardSchemaWithJSON } from '@modelcontextprotocol/server';

type Shape = z.ZodRawShape;
type JsonOptions = { target: string; libraryOptions?: Record<string, unknown> };

const made = new WeakMap<Shape, StandardSchemaWithJSON<Record<string, unknown>>>();

/** The registered schema for `shape` (one per shape, so every server shares its JSON Schema). */
export function sdkSchema(shape: Shape): StandardSchemaWithJSON<Record<string, unknown>> {
  const hit = made.get(shape);
  if (hit) return hit;
  const std = z.object(shape)['~standard'];
  const cache = new Map<string, Record<string, unknown>>();
  const json = (io: 'input' | 'output') => (o: JsonOptions) => {
    const key = `${io}:${o.target}`;
    let s = cache.get(key);
    if (!s) cache.set(key, (s = std.jsonSchema[io](o as Parameters<typeof std.jsonSchema.input>[0])));
    return s;
  };
  const schema: StandardSchemaWithJSON<Record<string, unknown>> = {
    '~standard': {
      version: 1,
      vendor: 'hf-model-server',
      validate: (value) => ({ value: (value ?? {}) as Record<string, unknown> }),
      jsonSchema: { input: json('input'), output: json('output') },
    },
  };
  made.set(shape, schema);
  return schema;
}
