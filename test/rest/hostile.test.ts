/**
 * Hostile REST input: oversized, malformed and wrongly typed bodies, oversized and corrupt
 * uploads, unknown routes and models, missing credentials, and a request still running at
 * shutdown. Each gets a catalogued code in the route's error shape, and the server keeps serving.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { closeHttpApps, startHttpApp } from '../helpers/http.js';

afterAll(closeHttpApps);

const start = (over: Parameters<typeof startHttpApp>[0] = {}) =>
  startHttpApp({ maxBodyBytes: 64 * 1024, media: { maxBytes: 16 * 1024 }, ...over });

async function req(base: string, path: string, init: RequestInit = {}) {
  const r = await fetch(`${base}${path}`, init);
  const text = await r.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: r.status, headers: r.headers, body: body as { error: { code: string; message: string; type: string } } };
}
const json = (body: unknown): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: typeof body === 'string' ? body : JSON.stringify(body),
});

describe('hostile REST input', () => {
  it('answers each with its code, in OpenAI shape, and keeps serving', async () => {
    const { base } = await start();
    const cases: Array<[string, RequestInit, number, string]> = [
      ['/v1/embeddings', json({ input: 'x'.repeat(70_000) }), 413, 'body_too_large'],
      ['/v1/embeddings', json('{"input": "unterminated'), 400, 'invalid_input'],
      ['/v1/embeddings', json({ input: 42 }), 400, 'invalid_input'],
      ['/v1/embeddings', json({ input: [] }), 400, 'invalid_input'],
      ['/v1/embeddings', json({ input: '   ' }), 400, 'invalid_input'],
      ['/v1/embeddings', json({ input: 'x', model: 'Xenova/../../etc/passwd' }), 404, 'unknown_model'],
      ['/v1/embeddings', json({ input: 'x', model: 'distilgpt2' }), 400, 'unsupported_task'],
      ['/v1/embeddings', json({ input: 'x', dimensions: 100_000 }), 400, 'invalid_input'],
      ['/v1/chat/completions', json({ messages: [{ role: 'user', content: 'hi' }], n: 3 }), 400, 'invalid_input'],
      ['/v1/chat/completions', json({ messages: [{ role: 'user', content: 'hi' }], tools: [{ type: 'function' }] }), 400, 'invalid_input'],
      ['/v1/chat/completions', json({ messages: [{ role: 'tool', content: 'hi' }] }), 400, 'invalid_input'],
      ['/v1/embed', json([{ texts: ['x'] }]), 400, 'invalid_input'],
      ['/v1/models/no-such/model', {}, 404, 'unknown_model'],
      ['/v1/nothing-here', json({}), 404, 'not_found'],
    ];
    for (const [path, init, status, code] of cases) {
      const r = await req(base, path, init);
      expect(r.status, `${path} ${String(init.body).slice(0, 60)}`).toBe(status);
      expect(r.body.error.code, path).toBe(code);
      if (path !== '/v1/nothing-here') expect(typeof r.body.error.type).toBe('string');
    }
    const wrongMethod = await req(base, '/v1/embeddings');
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('POST');
    // Still serving.
    const ok = await req(base, '/v1/embeddings', json({ input: 'still here', encoding_format: 'float' }));
    expect(ok.status).toBe(200);
  });

  it('uploads: over the media limit, over the body limit, corrupt, malformed, or not multipart', async () => {
    const { base } = await start();
    const upload = (bytes: Uint8Array, extra: Record<string, string> = {}) => {
      const f = new FormData();
      f.set('file', new Blob([bytes]), 'a.wav');
      f.set('model', 'whisper-tiny');
      for (const [k, v] of Object.entries(extra)) f.set(k, v);
      return { method: 'POST', body: f } satisfies RequestInit;
    };
    const big = await req(base, '/v1/audio/transcriptions', upload(new Uint8Array(20 * 1024)));
    expect([big.status, big.body.error.code]).toEqual([413, 'media_too_large']);
    const huge = await req(base, '/v1/audio/transcriptions', upload(new Uint8Array(100 * 1024)));
    expect([huge.status, huge.body.error.code]).toEqual([413, 'body_too_large']);
    const corrupt = await req(base, '/v1/audio/transcriptions', upload(new TextEncoder().encode('RIFF this is not a wave file at all')));
    expect([400, 415]).toContain(corrupt.status);
    expect(['invalid_media', 'unsupported_media']).toContain(corrupt.body.error.code);
    const badFormat = await req(base, '/v1/audio/transcriptions', upload(new Uint8Array(10), { response_format: 'xml' }));
    expect([badFormat.status, badFormat.body.error.code]).toEqual([400, 'invalid_input']);
    const malformed = await req(base, '/v1/audio/transcriptions', {
      method: 'POST',
      headers: { 'content-type': 'multipart/form-data; boundary=zzz' },
      body: '--zzz\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n\r\nno end boundary',
    });
    expect(malformed.status).toBe(400);
    const notForm = await req(base, '/v1/audio/transcriptions', json({ file: 'x' }));
    expect([notForm.status, notForm.body.error.code]).toEqual([400, 'invalid_input']);
    const strayFile = new FormData();
    strayFile.set('payload', new Blob([new Uint8Array(8)]), 'x.bin');
    const stray = await req(base, '/v1/ocr', { method: 'POST', body: strayFile });
    expect([stray.status, stray.body.error.code]).toEqual([400, 'invalid_input']);
    expect((await req(base, '/v1/embeddings', json({ input: 'after uploads' }))).status).toBe(200);
  });

  it('REST routes need credentials when keys are set; the API description and /docs do not', async () => {
    const { base } = await start({ apiKeys: ['k1'] });
    const r = await req(base, '/v1/embeddings', json({ input: 'x' }));
    expect([r.status, r.body.error.code, r.body.error.type]).toEqual([401, 'unauthorized', 'authentication_error']);
    expect(r.headers.get('www-authenticate')).toMatch(/Bearer/);
    const tei = await req(base, '/embed', json({ inputs: 'x' }));
    expect(tei.status).toBe(401);
    expect(tei.body).toMatchObject({ code: 'unauthorized', error_type: 'unauthorized' });
    expect((await req(base, '/openapi.json')).status).toBe(200);
    expect((await req(base, '/docs')).status).toBe(200);
    const withKey = await req(base, '/v1/embeddings', {
      ...json({ input: 'x' }),
      headers: { 'content-type': 'application/json', authorization: 'Bearer k1' },
    });
    expect(withKey.status).toBe(200);
  });

  it('a request still running when the shutdown grace ends gets shutting_down, in its shape', async () => {
    const { http, base } = await start({ maxBodyBytes: 4 << 20 });
    await req(base, '/v1/embeddings', json({ input: 'warm' }));
    // Long texts on the MiniLM-shaped model: seconds of work, so it is running at shutdown.
    const input = Array.from({ length: 256 }, (_, i) => `${'a long sentence that keeps the encoder busy for a while '.repeat(8)} ${i}`);
    const pending = req(base, '/v1/embeddings', json({ input }));
    await new Promise((r) => setTimeout(r, 100));
    expect(http.inFlight()).toBe(1);
    await http.close(1);
    const r = await pending;
    expect(r.status).toBe(503);
    expect(r.body.error.code).toBe('shutting_down');
    expect(r.headers.get('retry-after')).toMatch(/^\d+$/);
  });

  it('a chunked body past the limit is cut there with 413 in each front door’s shape; bad escapes, preflights and the description', async () => {
    const { base } = await start({ maxBodyBytes: 4096 });
    const { request } = await import('node:http');
    const url = new URL(base);
    /** Streams `chunks` of JSON without a Content-Length (so only the bytes themselves can be counted). */
    const chunked = (path: string, chunks: number) =>
      new Promise<{ status: number; body: Record<string, unknown> }>((resolve, reject) => {
        const r = request(
          { host: url.hostname, port: url.port, path, method: 'POST', headers: { 'content-type': 'application/json' } },
          (res) => {
            let text = '';
            res.on('data', (c: Buffer) => (text += c.toString()));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> }));
          },
        );
        r.on('error', reject);
        r.write('{"input": "');
        for (let i = 0; i < chunks; i++) r.write('x'.repeat(1024));
        r.end('"}');
      });
    const rest = await chunked('/v1/embeddings', 8);
    expect(rest.status).toBe(413);
    expect(rest.body).toMatchObject({ error: { code: 'body_too_large', type: 'invalid_request_error' } });
    const mcp = await chunked('/mcp', 8);
    expect(mcp.status).toBe(413);
    expect(mcp.body).toMatchObject({ jsonrpc: '2.0', error: { data: { code: 'body_too_large' } } });
    // Under the limit the same way of sending is served.
    expect((await chunked('/v1/embeddings', 2)).status).toBe(200);

    const escape = await req(base, `/v1/models/%E0%A4%A${'secret'.repeat(50)}`);
    expect([escape.status, escape.body.error.code]).toEqual([400, 'invalid_input']);
    expect(escape.body.error.message).not.toContain('secret');

    const preflight = await fetch(`${base}/mcp`, {
      method: 'OPTIONS',
      headers: { origin: base, 'access-control-request-method': 'POST', 'access-control-request-headers': 'mcp-method, mcp-name' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-headers')).toMatch(/mcp-method.*mcp-name/);

    // A task route shadowed by a compatible route of the same path is not described in its place.
    const doc = (await req(base, '/openapi.json')).body as unknown as { paths: Record<string, { post?: { summary: string } }> };
    expect(doc.paths['/v1/rerank']?.post?.summary).toMatch(/cross-encoder \(Cohere\/Jina shape\)/);
  });
});
