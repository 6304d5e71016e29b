/**
 * The stdio transport's line serializer must write exactly what JSON.stringify would, whether or
 * not it reuses the JSON text ToolResults.ok() made, including after the SDK's own re-parse of the
 * result (a shallow copy) and with strings that try to look like its marker.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CallToolResultSchema, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { ToolResults, fail } from '../../src/mcp/results.js';
import { serializeLine as serialize } from '../../src/transports/stdio.js';
import { ServerError } from '../../src/errors.js';
import { toJsonFloats } from '../../src/vectors.js';

const results = new ToolResults();
const ok = (structured: Record<string, unknown>) => results.ok(structured);
const serializeLine = (m: JSONRPCMessage) => serialize(m, results);
const reply = (id: number, result: unknown) => ({ jsonrpc: '2.0', id, result }) as JSONRPCMessage;
const reference = (m: JSONRPCMessage) => `${JSON.stringify(m)}\n`;

describe('serializeLine', () => {
  it('writes an embedding result byte for byte as JSON.stringify, after the SDK re-parses it', () => {
    const structured = {
      model: 'm',
      dims: 4,
      encoding: 'float',
      embeddings: [toJsonFloats(new Float32Array([0.1, -0.25, 1e-7, 3]))],
      usage: { prompt_tokens: 3, total_tokens: 3 },
    };
    const parsed = CallToolResultSchema.parse(ok(structured)); // what the SDK server hands the transport
    expect(parsed.structuredContent).not.toBe(structured); // a copy, so the reuse must match it by values
    expect(results.jsonOf(parsed.structuredContent!)).toBe(JSON.stringify(structured)); // and it is reused
    const m = reply(7, parsed);
    expect(serializeLine(m)).toBe(reference(m));
    expect(JSON.parse(serializeLine(m))).toEqual(JSON.parse(reference(m)));
  });

  it('matches JSON.stringify for arbitrary structured results, tricky strings included', () => {
    const tricky = fc.oneof(
      fc.string(),
      fc.constantFrom('"structuredContent":"\u0000structuredContent\u0000"', '\u0000structuredContent\u0000', '\\"}', '\n'),
    );
    fc.assert(
      fc.property(
        fc.dictionary(tricky, fc.oneof(tricky, fc.double(), fc.array(fc.double()), fc.dictionary(tricky, tricky)), { minKeys: 1 }),
        fc.integer(),
        (structured, id) => {
          const result = ok(structured as Record<string, unknown>);
          for (const r of [
            result,
            CallToolResultSchema.parse(result),
            { ...result, _meta: { note: '"structuredContent":"\u0000structuredContent\u0000"' } },
          ]) {
            const m = reply(id, r);
            expect(serializeLine(m)).toBe(reference(m));
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('falls back to JSON.stringify when the content changed after ok() or was never vouched for', () => {
    const structured = { items: [1, 2, 3], n: 1 };
    const result = ok(structured);
    const changed = { ...result, structuredContent: { ...structured, n: 2 } };
    expect(serializeLine(reply(1, changed))).toBe(reference(reply(1, changed)));
    const foreign = { content: [], structuredContent: { items: [1, 2, 3] } };
    expect(serializeLine(reply(2, foreign))).toBe(reference(reply(2, foreign)));
    const error = fail(new ServerError('invalid_input', 'bad'));
    expect(serializeLine(reply(3, error))).toBe(reference(reply(3, error)));
    const request = { jsonrpc: '2.0', id: 4, method: 'ping' } as JSONRPCMessage;
    expect(serializeLine(request)).toBe(reference(request));
  });
});

describe('StdioTransport output under backpressure', () => {
  it('shares one drain wait among all writes made while stdout is full, and loses none of them', async () => {
    const { PassThrough, Writable } = await import('node:stream');
    const { StdioTransport } = await import('../../src/transports/stdio.js');
    const { createLogger } = await import('../../src/logger.js');
    const got: string[] = [];
    // A slow consumer with a tiny buffer: most writes return false.
    const out = new Writable({
      highWaterMark: 16,
      write(chunk, _enc, cb) {
        got.push(String(chunk));
        setTimeout(cb, 1);
      },
    });
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    const t = new StdioTransport(results, 1 << 20, createLogger('silent'), new PassThrough(), out);
    let maxListeners = 0;
    const sends = Array.from({ length: 50 }, (_, i) => {
      const p = t.send(reply(i, { content: [] }));
      maxListeners = Math.max(maxListeners, out.listenerCount('drain'));
      return p;
    });
    await Promise.all(sends);
    await new Promise((r) => setTimeout(r, 20));
    process.off('warning', onWarning);
    expect(maxListeners).toBe(1);
    expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
    expect(
      got
        .join('')
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { id: number }).id),
    ).toEqual(Array.from({ length: 50 }, (_, i) => i));
  });
});
