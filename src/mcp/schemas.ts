/**
 * @module mcp/schemas
 * A task's zod shape as the schema the SDK registers: it advertises the shape's JSON Schema
 * (made once per shape, not per list call or per per-request server), and its validation
 * passes every value through unchanged. Arguments are validated once, by the task layer's
 * parseArgs, which gives the catalogue's `invalid_input` with the field named; outputs are made
 * by the tasks from typed values and checked by the tests' clients, not re-parsed per call.
 * Both through the Standard Schema interface the SDK's registerTool takes.
 *
 * The advertised JSON leaves out what only costs an agent's context: `$schema` (2020-12 is the
 * protocol's default dialect), and in outputs `additionalProperties: false`, which would also
 * make every older client reject a result the day a field is added.
 */
import { z } from 'zod';
import type { StandardSchemaWithJSON } from '@modelcontextprotocol/server';

type Shape = z.ZodRawShape;
type JsonOptions = { target: string; libraryOptions?: Record<string, unknown> };

/** `schema` without `$schema`, and for outputs without closed objects (see the module note). */
function lean(schema: Record<string, unknown>, open: boolean): Record<string, unknown> {
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (v === null || typeof v !== 'object') return v;
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      if (k === '$schema' || (open && k === 'additionalProperties' && x === false)) continue;
      out[k] = walk(x);
    }
    return out;
  };
  return walk(schema) as Record<string, unknown>;
}

/**
 * The registered schemas of the process's tools, one per shape, so every server (one per 2026-07-28
 * HTTP request) shares their JSON Schema instead of converting it again.
 */
export class ToolSchemas {
  private readonly made = new WeakMap<Shape, StandardSchemaWithJSON<Record<string, unknown>>>();

  /** The registered schema for `shape`. */
  of(shape: Shape): StandardSchemaWithJSON<Record<string, unknown>> {
    let hit = this.made.get(shape);
    if (!hit) this.made.set(shape, (hit = sdkSchema(shape)));
    return hit;
  }
}

/** A shape as a pass-through Standard Schema with its (lean, converted once) JSON Schema. */
function sdkSchema(shape: Shape): StandardSchemaWithJSON<Record<string, unknown>> {
  const std = z.object(shape)['~standard'];
  const cache = new Map<string, Record<string, unknown>>();
  const json = (io: 'input' | 'output') => (o: JsonOptions) => {
    const key = `${io}:${o.target}`;
    let s = cache.get(key);
    if (!s) cache.set(key, (s = lean(std.jsonSchema[io](o as Parameters<typeof std.jsonSchema.input>[0]), io === 'output')));
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
  return schema;
}
