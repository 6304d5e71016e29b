/**
 * Regressions for the edge findings of the outside attack, through the built CLI as a child
 * process: failed authentications must not lock out valid keys (also behind a trusted proxy),
 * and request bodies in flight are bounded by one budget, refused before they are read, and cut
 * off when they arrive too slowly.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect, type Socket } from 'node:net';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { InferenceClient } from '@huggingface/inference';
import { fixture } from '../helpers/fixtures.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { childEnv } from '../helpers/server.js';
import { httpServers } from '../helpers/spawn.js';

const servers = httpServers(childEnv);
afterEach(() => servers.killAll());
const serve = servers.serve;

const INIT = {
  jsonrpc: '2.0',
  id: 0,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'edge', version: '1' } },
};

async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

/** A raw HTTP request whose body is sent only in part (or not at all); resolves what the server answers. */
function rawRequest(port: number, head: string, body = ''): { socket: Socket; answer: Promise<string> } {
  const socket = connect({ host: '127.0.0.1', port });
  socket.on('error', () => undefined);
  let got = '';
  socket.on('data', (d) => (got += d));
  socket.write(head + body);
  const answer = new Promise<string>((resolve) => {
    const check = () => {
      if (/\r\n\r\n/.test(got) && (/connection: close/i.test(got) ? false : /\r\n\r\n[\s\S]*\}/.test(got))) resolve(got);
    };
    socket.on('data', check);
    socket.on('close', () => resolve(got));
  });
  return { socket, answer };
}

const rss = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;

describe('failed authentications do not lock out valid keys', () => {
  it('after many wrong keys from one address, a valid key from it is served; the failures themselves get 429', async () => {
    const s = await serve(['--auth-failure-limit', '3'], { HF_MODEL_SERVER_API_KEYS: 'right-key' });
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await post(s.url, INIT, { authorization: `Bearer wrong-${i}` })).status);
    expect(statuses).toEqual([401, 401, 401, 429, 429, 429]);
    const right = await post(s.url, INIT, { authorization: 'Bearer right-key' });
    expect(right.status).toBe(200);
    const rest = await fetch(`${s.base}/v1/models`, { headers: { authorization: 'Bearer right-key' } });
    expect(rest.status).toBe(200);
    // Anonymous requests are failures too, and still refused.
    expect((await post(s.url, INIT)).status).toBe(429);
  });

  it('behind a trusted proxy, failures count per forwarded client; without trust the header is ignored', async () => {
    const trusting = await serve(['--auth-failure-limit', '2', '--trusted-proxy', '127.0.0.0/8'], {
      HF_MODEL_SERVER_API_KEYS: 'right-key',
    });
    const from = (ip: string, key: string) => post(trusting.url, INIT, { authorization: `Bearer ${key}`, 'x-forwarded-for': ip });
    for (let i = 0; i < 3; i++) await from('203.0.113.5', 'wrong');
    expect((await from('203.0.113.5', 'wrong')).status).toBe(429);
    // Another client behind the same proxy is not affected, and a forged left-most entry does not help the first.
    expect((await from('198.51.100.7', 'wrong')).status).toBe(401);
    expect((await from('198.51.100.9, 203.0.113.5', 'wrong')).status).toBe(429);
    expect((await from('203.0.113.5', 'right-key')).status).toBe(200);
    expect(trusting.stderr()).toMatch(/"event":"auth_throttled"[^\n]*"ip":"203\.0\.113\.5"/);

    const plain = await serve(['--auth-failure-limit', '2'], { HF_MODEL_SERVER_API_KEYS: 'right-key' });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++)
      statuses.push((await post(plain.url, INIT, { authorization: 'Bearer wrong', 'x-forwarded-for': `192.0.2.${i}` })).status);
    expect(statuses).toEqual([401, 401, 429, 429]);
  });
});

describe('scoped keys', () => {
  it('a key line that lists metrics:read scrapes /metrics but cannot run tools, read resources or use REST', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hfms-keys-'));
    const file = join(dir, 'keys.txt');
    writeFileSync(file, '# operators\nadmin-key\nscrape-key metrics:read\n');
    const s = await serve(['--api-key-file', file]);
    const scrape = { authorization: 'Bearer scrape-key' };
    expect((await fetch(`${s.base}/metrics`, { headers: scrape })).status).toBe(200);
    expect(
      (
        await fetch(`${s.base}/v1/embeddings`, {
          method: 'POST',
          headers: { ...scrape, 'content-type': 'application/json' },
          body: '{"input":"x","model":"all-minilm-l6-v2"}',
        })
      ).status,
    ).toBe(403);
    const client = new Client({ name: 'scraper', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(s.url), { requestInit: { headers: scrape } }));
    const denied = await client.callTool({ name: 'tokenize', arguments: { text: 'x' } });
    expect(denied.isError).toBe(true);
    expect(JSON.stringify(denied.content)).toMatch(/models:infer/);
    await expect(client.readResource({ uri: 'hf://models' })).rejects.toThrow(/models:read/);
    await client.close();
    expect((await fetch(`${s.base}/metrics`, { headers: { authorization: 'Bearer admin-key' } })).status).toBe(200);
  });
});

describe('request bodies in flight are bounded', () => {
  it('past the budget a request is refused with 503 and Retry-After before its body is sent; room returns when connections end', async () => {
    const s = await serve(['--max-body-size', '1MiB', '--body-budget', '2MiB']);
    const head = (len: number) =>
      `POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:${s.port}\r\nContent-Type: application/json\r\n` +
      `Accept: application/json, text/event-stream\r\nContent-Length: ${len}\r\n\r\n`;
    const len = 1024 * 1024 - 10;
    // Two held uploads fill the budget.
    const held = [rawRequest(s.port, head(len), '{"a":"'), rawRequest(s.port, head(len), '{"a":"')];
    await expect.poll(() => (held.every((h) => h.socket.bytesWritten > 0) ? 'sent' : 'no'), { timeout: 5000 }).toBe('sent');
    // The third sends only its headers and is answered at once.
    let third = rawRequest(s.port, head(len));
    let answer = await third.answer;
    for (let i = 0; i < 50 && !/^HTTP\/1\.1 503/.test(answer); i++) {
      // The held requests may not have reached the server yet.
      third.socket.destroy();
      await new Promise((r) => setImmediate(r));
      third = rawRequest(s.port, head(len));
      answer = await third.answer;
    }
    expect(answer).toMatch(/^HTTP\/1\.1 503/);
    expect(answer).toMatch(/retry-after: \d+/i);
    expect(answer).toMatch(/"code":"overloaded"/);
    expect(answer).toMatch(/--body-budget/);
    expect(s.stderr()).toMatch(/"event":"body_budget_full"/);
    for (const h of held) h.socket.destroy();
    // Once the held connections are gone, a full-size body fits again.
    await expect
      .poll(
        async () =>
          (await post(s.url, { ...INIT, params: { ...INIT.params, clientInfo: { name: 'x'.repeat(len - 400), version: '1' } } })).status,
        { timeout: 10_000 },
      )
      .toBe(200);
  });

  it('many held uploads do not grow the process past the budget', async () => {
    const s = await serve(['--max-body-size', '4MiB', '--body-budget', '8MiB']);
    const before = rss(s.child.pid!);
    const len = 4 * 1024 * 1024 - 2;
    const head = `POST /v1/embeddings HTTP/1.1\r\nHost: 127.0.0.1:${s.port}\r\nContent-Type: application/json\r\nContent-Length: ${len}\r\n\r\n`;
    const chunk = `{"input":"${'a'.repeat(len - 20)}`;
    const socks = Array.from({ length: 30 }, () => rawRequest(s.port, head, chunk));
    const answers = await Promise.race([
      Promise.all(socks.slice(2).map((x) => x.answer)),
      new Promise<string[]>((r) => setTimeout(() => r([]), 20_000)),
    ]);
    const refused = answers.filter((a) => /^HTTP\/1\.1 503/.test(a)).length;
    expect(refused).toBeGreaterThanOrEqual(26);
    expect(answers.join('')).toMatch(/retry-after/i);
    const grown = rss(s.child.pid!) - before;
    // 30 x 4 MiB would be 120 MiB; the budget holds 8 MiB of bodies (plus the parser's copies).
    expect(grown).toBeLessThan(64 * 2 ** 20);
    for (const x of socks) x.socket.destroy();
    expect((await fetch(`${s.base}/health`)).status).toBe(200);
  });

  it('a body that arrives too slowly is answered 408 and its connection closed', async () => {
    const s = await serve(['--body-timeout', '1s']);
    const r = rawRequest(
      s.port,
      `POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:${s.port}\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: 1000\r\n\r\n`,
      '{"jsonrpc":',
    );
    const answer = await r.answer;
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    expect(answer).toMatch(/"code":"timeout"/);
    expect(r.socket.destroyed || r.socket.readableEnded).toBe(true);
    expect(s.stderr()).toMatch(/"event":"body_timeout"/);
  });
});

/** The built CLI over stdio, fed raw lines; resolves the answer with each id. */
function stdioChild(env: Record<string, string> = {}) {
  const child = spawn(process.execPath, ['dist/cli.js'], { env: childEnv({ HF_MODEL_SERVER_LOG_LEVEL: 'warn', ...env }) });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err = (err + d).slice(-2000)));
  // A child that dies fails the wait at once, with its last words, instead of at the poll's timeout.
  const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`server exited with ${code}: ${err}`))));
  exited.catch(() => undefined);
  const send = (m: unknown) => child.stdin.write(`${typeof m === 'string' ? m : JSON.stringify(m)}\n`);
  const reply = async (id: string | number): Promise<Record<string, unknown>> => {
    let found: Record<string, unknown> | undefined;
    const answered = expect
      .poll(
        () =>
          (found = out
            .split('\n')
            .filter(Boolean)
            .map((l) => JSON.parse(l) as Record<string, unknown>)
            .find((m) => m.id === id && ('result' in m || 'error' in m))),
        { timeout: 30_000, interval: 20 },
      )
      .toBeTruthy();
    await Promise.race([answered, exited]);
    return found!;
  };
  /** The 2025 opening: initialize, its answer, then the initialized notification. */
  const open = async () => {
    send(INIT);
    await reply(0);
    send({ jsonrpc: '2.0', method: 'notifications/initialized' });
  };
  return { child, send, reply, open };
}

describe('invalid params are JSON-RPC Invalid params', () => {
  it('a misspelt argument key is named with the valid ones over MCP and REST alike, from the task layer', async () => {
    const c = stdioChild();
    try {
      await c.open();
      c.send({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'tokenize', arguments: { txt: 'hello' } } });
      const r = (await c.reply(1)) as { result: { isError: boolean; content: Array<{ text: string }> } };
      expect(r.result.isError).toBe(true);
      expect(JSON.parse(r.result.content[0]!.text).error).toMatchObject({
        code: 'invalid_input',
        message: expect.stringMatching(/^unknown argument "txt" for tokenize; valid: text, texts/),
      });
    } finally {
      c.child.kill();
    }
    const s = await serve([]);
    const rest = await fetch(new URL('/v1/tokenize', s.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ txt: 'hello' }),
    });
    expect(rest.status).toBe(400);
    const body = (await rest.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('invalid_input');
    expect(body.error.message).toMatch(/^unknown argument "txt" for tokenize; valid: text, texts/);
  });

  it('tools/call with arguments "x" gets -32602 and one short line, over stdio and HTTP', async () => {
    const c = stdioChild();
    try {
      await c.open();
      c.send({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'tokenize', arguments: 'x' } });
      const r = (await c.reply(1)) as { error: { code: number; message: string } };
      expect(r.error.code).toBe(-32602);
      expect(r.error.message).toBe('Invalid params for tools/call: params.arguments: expected object, received string');
      // The server keeps serving.
      c.send({ jsonrpc: '2.0', id: 2, method: 'tools/list' });
      expect(((await c.reply(2)) as { result: { tools: unknown[] } }).result.tools.length).toBeGreaterThan(0);
    } finally {
      c.child.kill();
    }
    const s = await serve([]);
    const init = await post(s.url, INIT);
    const sid = init.headers.get('mcp-session-id')!;
    const bad = await post(
      s.url,
      { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'tokenize', arguments: 'x' } },
      { 'mcp-session-id': sid, 'mcp-protocol-version': '2025-06-18' },
    );
    expect(JSON.parse(bad.text)).toEqual({
      jsonrpc: '2.0',
      id: 7,
      error: { code: -32602, message: 'Invalid params for tools/call: params.arguments: expected object, received string' },
    });
  });
});

describe('tool schemas in the portable form', () => {
  it('no input or output schema writes a type as a list (nullable fields are anyOf with null), with --output-schemas', async () => {
    const c = stdioChild({ HF_MODEL_SERVER_OUTPUT_SCHEMAS: '1' });
    try {
      await c.open();
      c.send({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
      const tools = ((await c.reply(1)) as { result: { tools: Array<Record<string, unknown>> } }).result.tools;
      const lists: string[] = [];
      const walk = (x: unknown, at: string): void => {
        if (Array.isArray(x)) return x.forEach((v, i) => walk(v, `${at}[${i}]`));
        if (!x || typeof x !== 'object') return;
        if (Array.isArray((x as { type?: unknown }).type)) lists.push(at);
        for (const [k, v] of Object.entries(x)) walk(v, `${at}.${k}`);
      };
      for (const t of tools) walk(t, String(t.name));
      expect(lists).toEqual([]);
      const transcribe = tools.find((t) => t.name === 'transcribe') as {
        outputSchema: { properties: { segments: { items: { properties: { end: unknown } } } } };
      };
      expect(transcribe.outputSchema.properties.segments.items.properties.end).toMatchObject({
        anyOf: [{ type: 'number' }, { type: 'null' }],
      });
    } finally {
      c.child.kill();
    }
  });
});

/** Runs the built CLI to completion (asynchronously: a loopback server in this process must keep answering). */
function runCli(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['dist/cli.js', ...args], { env: { ...childEnv(), HF_MODEL_SERVER_OFFLINE: '0', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('hub answers are bounded', () => {
  it('an endless listing is cut at its cap and a stalled one times out, each with one catalogued line', async () => {
    const hub = createHttpServer((req, res) => {
      if (req.url?.startsWith('/api/models/big/huge')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"siblings":[');
        const piece = `${'{"rfilename":"onnx/model.onnx"},'.repeat(2048)}`;
        const pump = () => {
          while (res.write(piece)) if (res.destroyed) return;
          res.once('drain', pump);
        };
        res.on('close', () => res.removeAllListeners('drain'));
        return pump();
      }
      if (req.url?.startsWith('/api/models/slow/stall')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"siblings":[');
        return; // and nothing more
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => hub.listen(0, '127.0.0.1', () => r()));
    const endpoint = `http://127.0.0.1:${(hub.address() as AddressInfo).port}`;
    const skills = mkdtempSync(join(tmpdir(), 'hfms-add-'));
    try {
      const big = await runCli(['add', 'big/huge', '--skills-dir', skills, '--hub-endpoint', endpoint]);
      expect(big.code).not.toBe(0);
      expect(big.stderr).toMatch(/larger than 33554432 bytes/);
      expect(big.stderr).not.toMatch(/\n\s+at /);
      const slow = await runCli(['add', 'slow/stall', '--skills-dir', skills, '--hub-endpoint', endpoint, '--hub-timeout', '1s']);
      expect(slow.code).not.toBe(0);
      expect(slow.stderr).toMatch(/did not answer within 1 s/);
      expect(slow.stderr).not.toMatch(/TimeoutError|\n\s+at /);
    } finally {
      hub.closeAllConnections();
      hub.close();
    }
  });
});

describe('files inside folders must resolve inside them', () => {
  const SECRET = 'SECRET:$6$hash:19000:0:99999:7:::';

  it('a skills-folder link to a file elsewhere is refused with a reason, and its content appears nowhere', async () => {
    const outside = mkdtempSync(join(tmpdir(), 'hfms-outside-'));
    writeFileSync(join(outside, 'shadow'), `${SECRET}\n`);
    const skills = mkdtempSync(join(tmpdir(), 'hfms-skills-'));
    symlinkSync(join(outside, 'shadow'), join(skills, 'x.json'));
    // A link to a file inside the folder still loads.
    const real = {
      name: 'linked-ok',
      family: 'bert',
      architecture: 'encoder-only',
      tasks: ['feature-extraction'],
      description: 'x',
      model: { id: outside },
    };
    writeFileSync(join(skills, 'real.data'), JSON.stringify(real));
    symlinkSync(join(skills, 'real.data'), join(skills, 'y.json'));
    const s = await serve(['--skills-dir', skills], { HF_MODEL_SERVER_API_KEYS: 'k' });
    const client = new Client({ name: 'reader', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(s.url), { requestInit: { headers: { authorization: 'Bearer k' } } }));
    const text = ((await client.readResource({ uri: 'hf://models' })).contents[0] as { text: string }).text;
    await client.close();
    const models = JSON.parse(text) as { skills: Array<{ name: string }>; invalid: Array<{ file: string; reason: string }> };
    expect(models.invalid.find((i) => i.file.endsWith('x.json'))?.reason).toBe('links outside its folder; not read');
    expect(models.skills.map((m) => m.name)).toContain('linked-ok');
    expect(text).not.toContain('SECRET');
    expect(s.stderr()).not.toContain('SECRET');
  });

  it('register_model refuses a model folder whose config links outside the allowed folder, without echoing it', async () => {
    const outside = mkdtempSync(join(tmpdir(), 'hfms-outside-'));
    writeFileSync(join(outside, 'shadow'), `${SECRET}\n`);
    const root = mkdtempSync(join(tmpdir(), 'hfms-root-'));
    const model = join(root, 'evil');
    mkdirSync(join(model, 'onnx'), { recursive: true });
    writeFileSync(join(model, 'onnx', 'model.onnx'), '');
    symlinkSync(join(outside, 'shadow'), join(model, 'config.json'));
    const skills = mkdtempSync(join(tmpdir(), 'hfms-skills-'));
    const s = await serve(['--allow-register-dir', root, '--skills-dir', skills], { HF_MODEL_SERVER_API_KEYS: 'k' });
    const client = new Client({ name: 'admin', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(s.url), { requestInit: { headers: { authorization: 'Bearer k' } } }));
    const r = await client.callTool({ name: 'register_model', arguments: { source: model } });
    await client.close();
    expect(r.isError).toBe(true);
    const body = JSON.stringify(r);
    expect(body).toMatch(/config\.json: links outside its folder; not read/);
    expect(body).not.toContain('SECRET');
    expect(s.stderr()).not.toContain('SECRET');
    // A file that is inside but not JSON is refused by position only.
    writeFileSync(join(outside, 'plain'), SECRET);
    const inside = join(root, 'broken');
    mkdirSync(inside);
    writeFileSync(join(inside, 'config.json'), SECRET);
    const again = await runCli(['add', inside, '--skills-dir', skills]);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toMatch(/config\.json: invalid JSON/);
    expect(again.stderr + again.stdout).not.toContain('SECRET');
  });
});

describe('embedding batches as OpenAI clients send them', () => {
  it('the openai SDK embeds 600 inputs in one call (LangChain sends 512); past the limit is a 400 BadRequestError', async () => {
    const s = await serve([]);
    const client = new OpenAI({ baseURL: `${s.base}/v1`, apiKey: 'none', maxRetries: 0 });
    const input = Array.from({ length: 600 }, (_, i) => `document number ${i}`);
    const many = await client.embeddings.create({ model: 'all-minilm-l6-v2', input, encoding_format: 'float' });
    expect(many.data).toHaveLength(600);
    expect(many.data.map((d) => d.index)).toEqual(input.map((_, i) => i));
    const one = await client.embeddings.create({ model: 'all-minilm-l6-v2', input: input[437]!, encoding_format: 'float' });
    expect(many.data[437]!.embedding.slice(0, 8).map((x) => x.toFixed(5))).toEqual(
      one.data[0]!.embedding.slice(0, 8).map((x) => x.toFixed(5)),
    );
    const over = await client.embeddings
      .create({ model: 'all-minilm-l6-v2', input: Array.from({ length: 2049 }, () => 'x') })
      .catch((e: unknown) => e);
    expect(over).toBeInstanceOf(OpenAI.BadRequestError);
    expect((over as InstanceType<typeof OpenAI.BadRequestError>).code).toBe('input_too_large');
    expect(String((over as Error).message)).toMatch(/limit is 2048/);

    const small = await serve(['--max-client-batch-size', '100']);
    const capped = new OpenAI({ baseURL: `${small.base}/v1`, apiKey: 'none', maxRetries: 0 });
    const refused = await capped.embeddings.create({ model: 'all-minilm-l6-v2', input: input.slice(0, 101) }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(OpenAI.BadRequestError);
    expect(String((refused as Error).message)).toMatch(/limit is 100/);
    const info = (await (await fetch(`${small.base}/info`)).json()) as { max_client_batch_size: number };
    expect(info.max_client_batch_size).toBe(100);
  });
});

describe('structured output is refused up front, not ignored', () => {
  it('json_schema (the openai SDK parse) and json_object get a 400 naming response_format at once; text passes', async () => {
    const s = await serve([]);
    const client = new OpenAI({ baseURL: `${s.base}/v1`, apiKey: 'none', maxRetries: 0 });
    const messages = [{ role: 'user' as const, content: 'Give me a JSON object' }];
    const schema = await client.chat.completions
      .parse({
        model: 'tiny-chat',
        messages,
        max_tokens: 4,
        response_format: {
          type: 'json_schema',
          json_schema: { name: 'thing', schema: { type: 'object', properties: { a: { type: 'string' } } } },
        },
      })
      .catch((e: unknown) => e);
    expect(schema).toBeInstanceOf(OpenAI.BadRequestError);
    expect((schema as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('response_format');
    expect(String((schema as Error).message)).toMatch(/json_schema\) is not constrained/);
    const object = await client.chat.completions
      .create({ model: 'tiny-chat', messages, max_tokens: 4, response_format: { type: 'json_object' } })
      .catch((e: unknown) => e);
    expect(object).toBeInstanceOf(OpenAI.BadRequestError);
    const text = await client.chat.completions.create({
      model: 'tiny-chat',
      messages,
      max_tokens: 4,
      temperature: 0,
      response_format: { type: 'text' },
    });
    expect(typeof text.choices[0]!.message.content).toBe('string');
    // Nothing was generated for the refused calls.
    const metrics = await (await fetch(`${s.base}/metrics`)).text();
    expect(metrics).toMatch(/model_requests_total\{[^}]*model="tiny-chat"[^}]*status="ok"[^}]*\} 1\b/);
  });
});

describe('sessions', () => {
  it('on loopback without keys, one local process re-initializing does not close or crowd out another process’s sessions', async () => {
    const s = await serve(['--max-sessions-per-client', '2']);
    // Another process opens its two sessions.
    const script = `
      const ids = [];
      for (let i = 0; i < 2; i++) {
        const r = await fetch(${JSON.stringify(s.url)}, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: ${JSON.stringify(JSON.stringify(INIT))} });
        ids.push(r.headers.get('mcp-session-id'));
      }
      process.stdout.write(JSON.stringify(ids));`;
    const other = await new Promise<string>((resolve) => {
      const c = spawn(process.execPath, ['--input-type=module', '-e', script]);
      let out = '';
      c.stdout.on('data', (d) => (out += d));
      c.on('exit', () => resolve(out));
    });
    const theirs = JSON.parse(other) as string[];
    expect(theirs.every((id) => typeof id === 'string')).toBe(true);
    // This process gets its own two, then is refused; the other process's sessions stay open.
    const mine = [];
    for (let i = 0; i < 4; i++) mine.push((await post(s.url, INIT)).status);
    expect(mine).toEqual([200, 200, 429, 429]);
    for (const sid of theirs) {
      const r = await post(
        s.url,
        { jsonrpc: '2.0', id: 1, method: 'tools/list' },
        { 'mcp-session-id': sid, 'mcp-protocol-version': '2025-06-18' },
      );
      expect(r.status).toBe(200);
    }
  });

  it('a session is bound to the credential that created it: another key can neither use nor delete it', async () => {
    const s = await serve([], { HF_MODEL_SERVER_API_KEYS: 'key-a,key-b' });
    const a = { authorization: 'Bearer key-a' };
    const b = { authorization: 'Bearer key-b' };
    const sid = (await post(s.url, INIT, a)).headers.get('mcp-session-id')!;
    const h = { 'mcp-session-id': sid, 'mcp-protocol-version': '2025-06-18' };
    const list = { jsonrpc: '2.0', id: 1, method: 'tools/list' };
    expect((await post(s.url, list, { ...b, ...h })).status).toBe(404);
    const del = await fetch(s.url, { method: 'DELETE', headers: { ...b, ...h } });
    expect(del.status).toBe(404);
    expect((await post(s.url, list, { ...a, ...h })).status).toBe(200);
    expect(s.stderr()).toMatch(/"event":"session_owner_mismatch"/);
    expect((await fetch(s.url, { method: 'DELETE', headers: { ...a, ...h } })).status).toBe(200);
    expect((await post(s.url, list, { ...a, ...h })).status).toBe(404);
  });
});

describe('duplicate JSON-RPC ids on one session', () => {
  it('concurrent POSTs with the same id each get an answer at once; a batch repeating an id is refused', async () => {
    const s = await serve([]);
    const sid = (await post(s.url, INIT)).headers.get('mcp-session-id')!;
    const h = { 'mcp-session-id': sid, 'mcp-protocol-version': '2025-06-18' };
    const call = (id: number, tokens: number) => ({
      jsonrpc: '2.0',
      id,
      method: 'tools/call',
      params: { name: 'generate', arguments: { model: 'tiny-chat', prompt: 'count', max_new_tokens: tokens, do_sample: false } },
    });
    const answers = await Promise.all([post(s.url, call(5, 400), h), post(s.url, call(5, 400), h), post(s.url, call(5, 400), h)]);
    for (const a of answers) {
      expect([200, 400]).toContain(a.status);
      if (a.status === 400)
        expect(JSON.parse(a.text)).toMatchObject({ id: 5, error: { code: -32600, message: expect.stringMatching(/already in flight/) } });
      else expect(a.text).toMatch(/"id":5/);
    }
    expect(answers.filter((a) => a.status === 200).length).toBeGreaterThanOrEqual(1);
    const batch = await post(s.url, [call(8, 2), call(8, 2)], h);
    expect(batch.status).toBe(400);
    expect(JSON.parse(batch.text)).toMatchObject({ id: 8, error: { code: -32600 } });
    // The session still serves.
    expect((await post(s.url, call(9, 2), h)).text).toMatch(/"id":9/);
  });
});

describe('fair shares of a model queue', () => {
  it('a client whose call arrives behind another key’s 2,000 queued texts is served before that backlog drains', async () => {
    const s = await serve([], { HF_MODEL_SERVER_API_KEYS: 'flood,polite' });
    const embed = (key: string, input: string[]) =>
      fetch(`${s.base}/v1/embeddings`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'all-minilm-l6-v2', input }),
      });
    // Warm the model so the backlog is queued work, not a load.
    expect((await embed('polite', ['warm'])).status).toBe(200);
    let floodDone = 0;
    const flood = [0, 1].map((k) =>
      embed(
        'flood',
        Array.from({ length: 1000 }, (_, i) => `flood text ${k} ${i}`),
      ).then((r) => {
        floodDone++;
        return r.status;
      }),
    );
    await expect
      .poll(
        async () => {
          const m = await (await fetch(`${s.base}/metrics`, { headers: { authorization: 'Bearer polite' } })).text();
          return [...m.matchAll(/^queue_depth\{[^}]*\} (\d+)/gm)].reduce((a, x) => a + Number(x[1]), 0);
        },
        { timeout: 10_000, interval: 10 },
      )
      .toBeGreaterThan(500);
    const polite = await embed('polite', ['a polite question']);
    expect(polite.status).toBe(200);
    // Fair order: the polite call did not wait for the whole backlog.
    expect(floodDone).toBeLessThan(2);
    expect(await Promise.all(flood)).toEqual([200, 200]);
  });
});

describe('TEI compatibility through @huggingface/inference and raw routes', () => {
  it('POST / embeds or predicts by the model, /invocations likewise; /embed_all, /decode and pair /predict work', async () => {
    const s = await serve([]);
    const hf = new InferenceClient();
    // The client posts to endpointUrl itself: the server's base URL is TEI's default route.
    const vec = (await hf.featureExtraction({ endpointUrl: s.base, inputs: 'hello world' })) as number[] | number[][];
    const flat = (Array.isArray(vec[0]) ? vec[0] : vec) as number[];
    expect(flat).toHaveLength(384);
    const labels = await hf.textClassification({ endpointUrl: `${s.base}/?model=distilbert-sst2`, inputs: 'a lovely film' });
    expect(labels.map((l) => l.label).sort()).toEqual(['NEGATIVE', 'POSITIVE']);
    const sims = await hf.sentenceSimilarity({ endpointUrl: s.base, inputs: { source_sentence: 'cats', sentences: ['cats', 'tax law'] } });
    expect(sims).toHaveLength(2);
    expect(sims[0]!).toBeCloseTo(1, 4);

    const json = async (path: string, body: unknown) => {
      const r = await fetch(`${s.base}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return { status: r.status, body: (await r.json()) as unknown };
    };
    const inv = await json('/invocations', { inputs: ['hello world'] });
    expect(inv.status).toBe(200);
    expect((inv.body as number[][])[0]!.slice(0, 4)).toEqual(flat.slice(0, 4));
    const reranked = await json('/invocations', { query: 'cats', texts: ['tax law', 'cats'] });
    expect((reranked.body as Array<{ index: number }>)[0]!.index).toBe(1);

    // Per-token vectors: one per token including [CLS] and [SEP]; their mean is the pooled vector.
    const all = await json('/embed_all', { inputs: 'hello world' });
    const tokens = (await json('/tokenize', { inputs: 'hello world' })).body as unknown[][];
    const rows = (all.body as number[][][])[0]!;
    expect(rows).toHaveLength(tokens[0]!.length);
    const unnormalised = ((await json('/embed', { inputs: 'hello world', normalize: false })).body as number[][])[0]!;
    const mean = rows[0]!.map((_, h) => rows.reduce((a, r) => a + r[h]!, 0) / rows.length);
    expect(mean.slice(0, 8).map((x) => x.toFixed(4))).toEqual(unnormalised.slice(0, 8).map((x) => x.toFixed(4)));

    const ids = (tokens[0] as Array<{ id: number }>).map((t) => t.id);
    expect((await json('/decode', { ids })).body).toEqual(['hello world']);
    expect((await json('/decode', { ids: [ids], skip_special_tokens: false })).body).toEqual([
      expect.stringMatching(/^\[CLS\] hello world \[SEP\]$/),
    ]);

    // Pairs are read together, as transformers.js's own pipeline reads them.
    const pair = await json('/predict?model=distilbert-sst2', { inputs: ['the plot was thin', 'but the acting was superb'] });
    expect(pair.status).toBe(200);
    // The reference: transformers.js's own tokenizer (text_pair) and model, softmax over the logits.
    const { AutoTokenizer, AutoModelForSequenceClassification } = await import('@huggingface/transformers');
    const tokenizer = await AutoTokenizer.from_pretrained(fixture('classifier'));
    const model = await AutoModelForSequenceClassification.from_pretrained(fixture('classifier'), { device: 'cpu' });
    const enc = tokenizer('the plot was thin', { text_pair: 'but the acting was superb', truncation: true });
    const logits = Array.from((await model(enc)).logits.data as Float32Array);
    const z = logits.map((x) => Math.exp(x - Math.max(...logits)));
    const probs = z.map((x) => x / z.reduce((a, b) => a + b, 0));
    const id2label = (model.config as unknown as { id2label: Record<string, string> }).id2label;
    const got = pair.body as Array<{ label: string; score: number }>;
    probs.forEach((p, i) => expect(got.find((g) => g.label === id2label[String(i)])!.score).toBeCloseTo(p, 4));
    await model.dispose();
    const batch = await json('/predict?model=distilbert-sst2', {
      inputs: [
        ['a', 'b'],
        ['c', 'd'],
      ],
    });
    expect((batch.body as unknown[][]).length).toBe(2);
  });
});

describe('the OpenAI Responses API', () => {
  it('responses.create and responses.stream through the openai SDK: text, usage, the event sequence; tools refused', async () => {
    const s = await serve([]);
    const client = new OpenAI({ baseURL: `${s.base}/v1`, apiKey: 'none', maxRetries: 0 });
    const r = await client.responses.create({
      model: 'tiny-chat',
      instructions: 'Answer briefly.',
      input: [{ role: 'user', content: 'Hi' }],
      max_output_tokens: 6,
      temperature: 0,
    });
    expect(r.object).toBe('response');
    expect(typeof r.output_text).toBe('string');
    expect(r.output_text.length).toBeGreaterThan(0);
    expect(r.usage!.output_tokens).toBeGreaterThan(0);
    expect(r.usage!.total_tokens).toBe(r.usage!.input_tokens + r.usage!.output_tokens);
    // The same call through chat completions gives the same greedy text.
    const chat = await client.chat.completions.create({
      model: 'tiny-chat',
      messages: [
        { role: 'system', content: 'Answer briefly.' },
        { role: 'user', content: 'Hi' },
      ],
      max_tokens: 6,
      temperature: 0,
    });
    expect(r.output_text).toBe(chat.choices[0]!.message.content);
    if (chat.choices[0]!.finish_reason === 'length') expect(r.status).toBe('incomplete');

    const types: string[] = [];
    let streamed = '';
    const stream = client.responses.stream({ model: 'tiny-chat', input: 'Once upon a time', max_output_tokens: 8, temperature: 0 });
    for await (const e of stream) {
      types.push(e.type);
      if (e.type === 'response.output_text.delta') streamed += e.delta;
    }
    const final = await stream.finalResponse();
    expect(streamed).toBe(final.output_text);
    expect(types.slice(0, 4)).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
    ]);
    expect(types.slice(-4)).toEqual([
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      final.status === 'incomplete' ? 'response.incomplete' : 'response.completed',
    ]);
    const plain = await client.completions.create({ model: 'tiny-chat', prompt: 'Once upon a time', max_tokens: 8, temperature: 0 });
    expect(final.output_text).toBe(plain.choices[0]!.text);

    const tools = await client.responses
      .create({ model: 'tiny-chat', input: 'Hi', tools: [{ type: 'function', name: 'f', parameters: {}, strict: false }] })
      .catch((e: unknown) => e);
    expect(tools).toBeInstanceOf(OpenAI.BadRequestError);
    const json = await client.responses
      .create({ model: 'tiny-chat', input: 'Hi', text: { format: { type: 'json_object' } } })
      .catch((e: unknown) => e);
    expect(json).toBeInstanceOf(OpenAI.BadRequestError);
  });
});

describe('the circuit breaker counts only model faults', () => {
  it('a probe that ends on its deadline leaves the breaker half-open instead of closing it', async () => {
    const s = await serve(['--breaker-reset', '1s'], { HF_MODEL_SERVER_API_KEYS: 'k' });
    const client = new Client({ name: 'breaker', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(s.url), { requestInit: { headers: { authorization: 'Bearer k' } } }));
    const state = async () => {
      const text = ((await client.readResource({ uri: 'hf://models' })).contents[0] as { text: string }).text;
      return (JSON.parse(text) as { skills: Array<{ name: string; circuit_breaker: string }> }).skills.find(
        (m) => m.name === 'broken-embedder',
      )!.circuit_breaker;
    };
    const embed = (meta: Record<string, unknown> = {}) =>
      client.callTool({ name: 'embed', arguments: { model: 'broken-embedder', texts: ['x'] }, _meta: meta });
    for (let i = 0; i < 6 && (await state()) !== 'open'; i++) await embed();
    expect(await state()).toBe('open');
    await expect.poll(state, { timeout: 5000, interval: 100 }).toBe('half_open');
    // The probe is given up at its deadline: the client's doing, not the model's.
    const probe = await embed({ timeout_ms: 1 });
    expect(probe.isError).toBe(true);
    expect(JSON.stringify(probe.content)).toMatch(/timeout|cancelled/);
    expect(await state()).toBe('half_open');
    // A real probe finds the model still broken and opens the breaker again.
    const real = await embed();
    expect(JSON.stringify(real.content)).toMatch(/model_load_failed/);
    expect(await state()).toBe('open');
    await client.close();
  });
});

describe('rerank with a cross-encoder', () => {
  it('the rerank tool, TEI /rerank and /v1/rerank give the sigmoid of the cross-encoder logit, best first; add infers a one-label classifier as a reranker', async () => {
    const s = await serve([]);
    const query = 'how do I reset my password';
    const documents = ['Opening hours of the shop', 'Password reset steps', 'A recipe for soup'];
    // The reference: transformers.js reads each pair with its own tokenizer and model.
    const { AutoTokenizer, AutoModelForSequenceClassification } = await import('@huggingface/transformers');
    const tokenizer = await AutoTokenizer.from_pretrained(fixture('crossEncoder'));
    const model = await AutoModelForSequenceClassification.from_pretrained(fixture('crossEncoder'), { device: 'cpu' });
    const logits: number[] = [];
    for (const d of documents)
      logits.push(((await model(tokenizer(query, { text_pair: d, truncation: true }))).logits.data as Float32Array)[0]!);
    await model.dispose();
    const want = logits.map((x, index) => ({ index, score: 1 / (1 + Math.exp(-x)) })).sort((a, b) => b.score - a.score);

    const client = new Client({ name: 'rerank', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(s.url)));
    const tool = (await client.callTool({ name: 'rerank', arguments: { query, documents, return_documents: true } })).structuredContent as {
      model: string;
      results: Array<{ index: number; score: number; document: string }>;
    };
    expect(tool.model).toBe('ms-marco-minilm-l6');
    expect(tool.results.map((r) => r.index)).toEqual(want.map((r) => r.index));
    tool.results.forEach((r, i) => expect(r.score).toBeCloseTo(want[i]!.score, 5));
    expect(tool.results[0]!.document).toBe(documents[want[0]!.index]);
    const raw = (await client.callTool({ name: 'rerank', arguments: { query, documents, raw_scores: true, top_k: 1 } }))
      .structuredContent as {
      results: Array<{ index: number; score: number }>;
    };
    expect(raw.results).toHaveLength(1);
    expect(raw.results[0]!.score).toBeCloseTo(logits[want[0]!.index]!, 4);
    await client.close();

    const post = async (path: string, body: unknown) =>
      (await (
        await fetch(`${s.base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
      ).json()) as unknown;
    const tei = (await post('/rerank', { query, texts: documents, return_text: true })) as Array<{
      index: number;
      score: number;
      text: string;
    }>;
    expect(tei.map((r) => r.index)).toEqual(want.map((r) => r.index));
    expect(tei[0]!.score).toBeCloseTo(want[0]!.score, 5);
    const cohere = (await post('/v1/rerank', {
      query,
      documents: documents.map((text) => ({ text })),
      top_n: 2,
      return_documents: true,
    })) as {
      results: Array<{ index: number; relevance_score: number; document: { text: string } }>;
    };
    expect(cohere.results).toHaveLength(2);
    expect(cohere.results[0]).toMatchObject({ index: want[0]!.index, document: { text: documents[want[0]!.index] } });
    expect(cohere.results[0]!.relevance_score).toBeCloseTo(want[0]!.score, 5);

    // add: a one-label *ForSequenceClassification folder is a reranker.
    const skills = mkdtempSync(join(tmpdir(), 'hfms-add-ce-'));
    const added = await runCli(['add', fixture('crossEncoder'), '--name', 'my-reranker', '--skills-dir', skills]);
    expect(added.code, added.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(skills, 'my-reranker.json'), 'utf8')).tasks).toEqual(['text-ranking']);
  });
});

describe('zero-shot text classification through NLI', () => {
  it('classify with candidate_labels for text matches transformers.js’s zero-shot pipeline, single and multi-label; add infers an NLI model', async () => {
    const s = await serve([]);
    const text = 'The invoice total does not match what we agreed on';
    const candidate_labels = ['billing', 'bug report', 'praise'];
    const { pipeline } = await import('@huggingface/transformers');
    const zs = await pipeline('zero-shot-classification', fixture('nli'), { device: 'cpu' });
    const client = new Client({ name: 'zs', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(s.url)));
    for (const multi_label of [false, true]) {
      const ref = (await zs(text, candidate_labels, { multi_label, hypothesis_template: 'This text is about {}.' })) as {
        labels: string[];
        scores: number[];
      };
      const got = (
        (
          await client.callTool({
            name: 'classify',
            arguments: { text, candidate_labels, multi_label, hypothesis_template: 'This text is about {}.' },
          })
        ).structuredContent as { model: string; results: Array<{ labels: Array<{ label: string; score: number }> }> }
      ).results[0]!.labels;
      expect(got.map((l) => l.label)).toEqual(ref.labels);
      got.forEach((l, i) => expect(l.score).toBeCloseTo(ref.scores[i]!, 5));
    }
    await zs.dispose();
    // The default template, and several texts at once.
    const two = (await client.callTool({ name: 'classify', arguments: { texts: [text, 'Great app!'], candidate_labels } }))
      .structuredContent as {
      model: string;
      results: unknown[];
    };
    expect(two.model).toBe('mobilebert-mnli');
    expect(two.results).toHaveLength(2);
    await client.close();
    const skills = mkdtempSync(join(tmpdir(), 'hfms-add-nli-'));
    const added = await runCli(['add', fixture('nli'), '--name', 'my-nli', '--skills-dir', skills]);
    expect(added.code, added.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(skills, 'my-nli.json'), 'utf8')).tasks).toEqual(['zero-shot-classification']);
  });
});

describe('entity extraction', () => {
  it('aggregation none matches transformers.js’s token-classification pipeline; simple and first group with offsets into the text; add infers token classifiers', async () => {
    const s = await serve([]);
    const text = 'Alice Wong moved to Paris with Globex Corporation';
    const { pipeline } = await import('@huggingface/transformers');
    const ner = await pipeline('token-classification', fixture('ner'), { device: 'cpu' });
    // transformers.js leaves out O tokens too; compare every other token's label and score.
    const ref = (await ner(text, { ignore_labels: [] })) as Array<{ entity: string; score: number }>;
    await ner.dispose();
    const client = new Client({ name: 'ner', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(s.url)));
    const call = async (args: Record<string, unknown>) =>
      (
        (await client.callTool({ name: 'extract_entities', arguments: { text, ...args } })).structuredContent as {
          model: string;
          results: Array<Array<{ entity?: string; entity_group?: string; score: number; word: string; start: number; end: number }>>;
        }
      ).results[0]!;
    const none = await call({ aggregation: 'none', ignore_labels: [] });
    expect(none.map((e) => e.entity)).toEqual(ref.map((r) => r.entity));
    none.forEach((e, i) => expect(e.score).toBeCloseTo(ref[i]!.score, 5));
    for (const e of none) expect(text.slice(e.start, e.end).toLowerCase()).toBe(e.word.toLowerCase());

    // simple: consecutive tokens of one type form a group (a B- tag starts a new one), score the mean.
    const simple = await call({ aggregation: 'simple', ignore_labels: [] });
    const type = (l: string) => l.replace(/^[BI]-/, '');
    const expected: Array<{ group: string; n: number; sum: number; start: number; end: number }> = [];
    for (const t of none) {
      const last = expected[expected.length - 1];
      if (last && last.group === type(t.entity!) && !t.entity!.startsWith('B-')) {
        last.n++;
        last.sum += t.score;
        last.end = t.end;
      } else expected.push({ group: type(t.entity!), n: 1, sum: t.score, start: t.start, end: t.end });
    }
    expect(simple.map((g) => [g.entity_group, g.start, g.end])).toEqual(expected.map((g) => [g.group, g.start, g.end]));
    simple.forEach((g, i) => expect(g.score).toBeCloseTo(expected[i]!.sum / expected[i]!.n, 6));
    for (const g of simple) expect(g.word).toBe(text.slice(g.start, g.end));
    // The default leaves O out; first merges subwords, so no group starts inside a word.
    const first = await call({ aggregation: 'first' });
    for (const g of first) {
      expect(g.entity_group).not.toBe('O');
      expect(g.start === 0 || /\s/.test(text[g.start - 1]!)).toBe(true);
    }
    await client.close();

    const skills = mkdtempSync(join(tmpdir(), 'hfms-add-ner-'));
    const added = await runCli(['add', fixture('ner'), '--name', 'my-ner', '--skills-dir', skills]);
    expect(added.code, added.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(skills, 'my-ner.json'), 'utf8')).tasks).toEqual(['token-classification']);
  });
});

describe('image embeddings', () => {
  it('embed takes an image with a CLIP-style model, in the same space as that model’s text vectors, as transformers.js computes them', async () => {
    const s = await serve(['--allow-dir', process.cwd()]);
    const image = join(process.cwd(), 'examples', 'ocr-page.png');
    const client = new Client({ name: 'clip', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(s.url)));
    const call = async (args: Record<string, unknown>) => await client.callTool({ name: 'embed', arguments: args });
    const img = (await call({ image, model: 'clip-vit-base-patch32' })).structuredContent as { dims: number; embeddings: number[][] };
    const txt = (await call({ texts: ['a page of text', 'a cat'], model: 'clip-vit-base-patch32' })).structuredContent as {
      dims: number;
      embeddings: number[][];
    };
    expect(img.dims).toBe(txt.dims);
    // The reference: transformers.js's own CLIP model, processor and tokenizer on the same folder.
    const { AutoProcessor, AutoTokenizer, CLIPModel, RawImage } = await import('@huggingface/transformers');
    const processor = await AutoProcessor.from_pretrained(fixture('clip'));
    const tokenizer = await AutoTokenizer.from_pretrained(fixture('clip'));
    const model = await CLIPModel.from_pretrained(fixture('clip'), { device: 'cpu' });
    const { pixel_values } = await processor(await RawImage.read(image));
    const out = await model({ ...tokenizer(['a page of text', 'a cat'], { padding: 'max_length', truncation: true }), pixel_values });
    const unit = (xs: number[]) => {
      const n = Math.hypot(...xs);
      return xs.map((x) => x / n);
    };
    const d = img.dims;
    const refImage = unit(Array.from((out.image_embeds.data as Float32Array).subarray(0, d)));
    const refText = unit(Array.from((out.text_embeds.data as Float32Array).subarray(d, 2 * d)));
    img.embeddings[0]!.forEach((x, i) => expect(x).toBeCloseTo(refImage[i]!, 3));
    txt.embeddings[1]!.forEach((x, i) => expect(x).toBeCloseTo(refText[i]!, 4));
    await model.dispose();
    // A text-only embedding model says which models take images.
    const refused = await call({ image, model: 'all-minilm-l6-v2' });
    expect(refused.isError).toBe(true);
    expect(JSON.stringify(refused.content)).toMatch(/unsupported_task.*clip-vit-base-patch32/);
    await client.close();
  });
});

describe('image captions', () => {
  it('caption streams its text as progress and equals transformers.js’s image-to-text pipeline; the task route and add agree', async () => {
    const s = await serve(['--allow-dir', process.cwd()]);
    const image = join(process.cwd(), 'examples', 'ocr-page.png');
    const { pipeline, RawImage } = await import('@huggingface/transformers');
    const captioner = await pipeline('image-to-text', fixture('caption'), { device: 'cpu' });
    const ref = ((await captioner(await RawImage.read(image), { max_new_tokens: 12 })) as Array<{ generated_text: string }>)[0]!;
    await captioner.dispose();
    expect(ref.generated_text.length).toBeGreaterThan(0);

    const client = new Client({ name: 'caption', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(s.url)));
    const pieces: string[] = [];
    const r = await client.callTool({ name: 'caption', arguments: { image, max_new_tokens: 12 } }, undefined, {
      onprogress: (p) => void pieces.push(p.message ?? ''),
    });
    expect(r.isError, JSON.stringify(r.content)).toBeFalsy();
    const out = r.structuredContent as { model: string; text: string; width: number; height: number; usage: { completion_tokens: number } };
    expect(out.model).toBe('vit-gpt2-image-captioning');
    expect(out.text).toBe(ref.generated_text);
    expect(out.usage.completion_tokens).toBeGreaterThan(0);
    expect(out.usage.completion_tokens).toBeLessThanOrEqual(12);
    // The streamed pieces, after the load phases, spell the caption.
    const text = pieces.filter((m) => !m.startsWith('loading model')).join('');
    expect(text.trim()).toBe(out.text);
    // An image model that does not caption is refused by name.
    const refused = await client.callTool({ name: 'caption', arguments: { image, model: 'vit-base-patch16-224' } });
    expect(refused.isError).toBe(true);
    expect(JSON.stringify(refused.content)).toMatch(/unsupported_task/);
    await client.close();

    // The task route gives the same answer.
    const rest = (await (
      await fetch(`${s.base}/v1/caption`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ image, max_new_tokens: 12 }),
      })
    ).json()) as { text: string };
    expect(rest.text).toBe(ref.generated_text);

    // add: a VisionEncoderDecoderModel folder is a captioner.
    const skills = mkdtempSync(join(tmpdir(), 'hfms-add-cap-'));
    const added = await runCli(['add', fixture('caption'), '--name', 'my-captioner', '--skills-dir', skills]);
    expect(added.code, added.stderr).toBe(0);
    expect(JSON.parse(readFileSync(join(skills, 'my-captioner.json'), 'utf8')).tasks).toEqual(['image-to-text']);
  });
});

describe('model "auto"', () => {
  it('a pinned split holds within sampling noise inside the best quality tier, a route key sticks, and hf://router and /metrics count the choices', async () => {
    // The split comes from an options file, as an operator's config would carry it.
    const options = join(mkdtempSync(join(tmpdir(), 'hfms-route-')), 'options.json');
    writeFileSync(options, JSON.stringify({ route: 'embed=all-minilm-l6-v2:80,clip-vit-base-patch32:20' }));
    const s = await serve(['--config', options]);
    const client = new Client({ name: 'auto', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(s.url)));
    const embed = async (args: Record<string, unknown>, meta: Record<string, unknown> = {}) => {
      const r = await client.callTool({ name: 'embed', arguments: { texts: ['route me'], model: 'auto', ...args }, _meta: meta });
      expect(r.isError, JSON.stringify(r.content)).toBeFalsy();
      return (r.structuredContent as { model: string }).model;
    };
    const tools = (await client.listTools()).tools;
    expect((tools.find((t) => t.name === 'embed')!.inputSchema.properties!.model as { enum: string[] }).enum).toContain('auto');
    // all-minilm-l6-v2 declares quality 1, the CLIP model 0: without leave, auto stays in the top tier.
    for (let i = 0; i < 20; i++) expect(await embed({})).toBe('all-minilm-l6-v2');
    // Allowed lower, the 80/20 split: 200 draws, mean 40 CLIP, 4 standard deviations either side.
    let clip = 0;
    for (let i = 0; i < 200; i++) if ((await embed({}, { allow_lower_quality: true })) === 'clip-vit-base-patch32') clip++;
    expect(clip).toBeGreaterThan(17);
    expect(clip).toBeLessThan(63);
    // A route key keeps its model.
    const sticky = new Set<string>();
    for (let i = 0; i < 10; i++) sticky.add(await embed({ route_key: 'collection-a' }, { allow_lower_quality: true }));
    expect(sticky.size).toBe(1);

    const router = JSON.parse(((await client.readResource({ uri: 'hf://router' })).contents[0] as { text: string }).text) as {
      tools: Array<{ tool: string; split?: unknown; arms: Array<{ model: string; choices: number; share: number; state: string }> }>;
    };
    const e = router.tools.find((t) => t.tool === 'embed')!;
    expect(e.split).toEqual([
      { model: 'all-minilm-l6-v2', weight: 80 },
      { model: 'clip-vit-base-patch32', weight: 20 },
    ]);
    const clipArm = e.arms.find((a) => a.model === 'clip-vit-base-patch32')!;
    expect(clipArm.choices).toBe(clip + [...sticky].filter((m) => m === 'clip-vit-base-patch32').length * 10);
    expect(e.arms.reduce((n, a) => n + a.choices, 0)).toBe(230);
    expect(clipArm.state).toBe('loaded');
    const metrics = await (await fetch(`${s.base}/metrics`)).text();
    expect(metrics).toMatch(new RegExp(`router_choices_total\\{tool="embed",model="clip-vit-base-patch32"\\} ${clipArm.choices}\\b`));

    // Without a split the router learns; the result names the model that served.
    const gen = await client.callTool({ name: 'generate', arguments: { prompt: 'Hi', max_new_tokens: 2, model: 'auto' } });
    const served = (gen.structuredContent as { model: string }).model;
    expect(['distilgpt2', 'tiny-chat', 'qwen2.5-0.5b-instruct', 'tinyllama-1.1b-chat', 'flan-t5-small']).toContain(served);
    await client.close();
  });
});
