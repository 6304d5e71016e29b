/**
 * The stdio server as a child process, fed what a careless or hostile client writes: a message
 * just under the body limit (an 8 MiB PNG as base64, which the SDK's transport refused by closing
 * the server), one over it, a line that is not JSON, and JSON that is not JSON-RPC. Each gets an
 * answer, and the server keeps serving.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { childEnv } from '../helpers/server.js';

const CLI = ['--import', 'tsx', join(process.cwd(), 'src/cli.ts')];
let child: ChildProcessWithoutNullStreams;
let out = '';
let err = '';

const send = (m: unknown) => child.stdin.write(typeof m === 'string' ? m : `${JSON.stringify(m)}\n`);
/** The response with this id, once it arrives. */
async function reply(id: string | number | null, timeoutMs = 60_000): Promise<Record<string, unknown>> {
  const t0 = Date.now();
  for (;;) {
    for (const line of out.split('\n')) {
      if (!line) continue;
      const m = JSON.parse(line) as Record<string, unknown>;
      if ('id' in m && m.id === id && ('result' in m || 'error' in m)) {
        out = out.replace(`${line}\n`, '');
        return m;
      }
    }
    if (child.exitCode !== null) throw new Error(`server exited (${child.exitCode}); stderr: ${err.slice(-800)}`);
    if (Date.now() - t0 > timeoutMs) throw new Error(`no reply for id ${id}; stderr: ${err.slice(-800)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

beforeAll(async () => {
  const env = childEnv({ HF_MODEL_SERVER_LOG_LEVEL: 'warn' });
  child = spawn(process.execPath, CLI, { env, stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  send({
    jsonrpc: '2.0',
    id: 1,
    method: 'initialize',
    params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
  });
  await reply(1);
  send({ jsonrpc: '2.0', method: 'notifications/initialized' });
}, 60_000);
afterAll(() => child?.kill());

describe('stdio: large and invalid messages', () => {
  it('an 8 MiB PNG as base64 (11 MiB line, under the body limit) is served', async () => {
    const side = 1700;
    const image = await sharp(randomBytes(side * side * 3), { raw: { width: side, height: side, channels: 3 } })
      .png({ compressionLevel: 0 })
      .toBuffer();
    expect(image.length).toBeGreaterThan(8 * 2 ** 20);
    send({
      jsonrpc: '2.0',
      method: 'tools/call',
      params: { name: 'classify', arguments: { image_base64: image.toString('base64'), model: 'vit-base-patch16-224' } },
      id: 2,
    });
    const r = await reply(2);
    expect((r.result as { isError?: boolean }).isError, JSON.stringify(r).slice(0, 300)).toBeFalsy();
  });

  it('a line over the body limit is answered with Invalid Request carrying its id, and logged', async () => {
    const huge = 'A'.repeat(30 * 2 ** 20);
    send({ jsonrpc: '2.0', method: 'tools/call', params: { name: 'ocr', arguments: { image_base64: huge } }, id: 3 });
    const r = await reply(3);
    expect((r.error as { code: number; message: string }).code).toBe(-32600);
    expect((r.error as { message: string }).message).toMatch(/over the .*byte limit \(--max-body-size\)/);
    expect(err).toMatch(/message over the size limit refused/);
  });

  it('a line that is not JSON gets a Parse error; JSON that is not JSON-RPC gets Invalid Request with its id', async () => {
    send('this is not json\n');
    expect(((await reply(null)).error as { code: number }).code).toBe(-32700);
    send('{"id":100,"method":"tools/call","params":null}\n');
    expect(((await reply(100)).error as { code: number }).code).toBe(-32600);
    send('{"jsonrpc":"2.0","id":101,"method":"tools/call","params":null}\n');
    expect((await reply(101)).error).toBeTruthy();
  });

  it('keeps serving afterwards', async () => {
    send({ jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 'embed', arguments: { texts: ['still here'] } } });
    expect(((await reply(4)).result as { isError?: boolean }).isError).toBeFalsy();
    expect(child.exitCode).toBeNull();
  });
});
