/**
 * A loopback stand-in for the Hugging Face Hub (--hub-endpoint): model folders served under the
 * Hub's URL layout (`/{id}/resolve/{revision}/{file}`, with Range requests), the model API's file
 * list (`/api/models/{id}/revision/{revision}`), an optional bearer token, and a way to drop the
 * connection midway through a file once. Every request is recorded with its auth and range.
 */
import { createServer } from 'node:http';
import { createReadStream, existsSync, readdirSync, statSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

export interface HubRequest {
  method: string;
  path: string;
  auth: string | undefined;
  range: string | undefined;
}

export interface LoopbackHub {
  endpoint: string;
  requests: HubRequest[];
  /** The next GET of `file` (path inside the model) sends `bytes` bytes, then the socket is destroyed. */
  dropOnce(file: string, bytes: number): void;
  close(): Promise<void>;
}

const listFiles = (dir: string): string[] =>
  readdirSync(dir, { recursive: true })
    .map(String)
    .filter((f) => statSync(join(dir, f)).isFile());

/** Serves `models` (Hub id -> folder); with `token`, every request must carry it as a bearer token. */
export async function startHub(models: Record<string, string>, o: { token?: string } = {}): Promise<LoopbackHub> {
  const requests: HubRequest[] = [];
  const drops = new Map<string, number>();
  const server = createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? '').split('?')[0]!);
    requests.push({ method: req.method ?? '', path, auth: req.headers.authorization, range: req.headers.range });
    if (o.token && req.headers.authorization !== `Bearer ${o.token}`) return void res.writeHead(401).end('unauthorized');
    const api = /^\/api\/models\/(.+?)(?:\/revision\/([^/]+))?$/.exec(path);
    if (api) {
      const dir = models[api[1]!];
      if (!dir) return void res.writeHead(404).end('{"error":"Repository not found"}');
      const body = JSON.stringify({ id: api[1], siblings: listFiles(dir).map((rfilename) => ({ rfilename })) });
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(body);
    }
    const m = /^\/(.+?)\/resolve\/([^/]+)\/(.+)$/.exec(path);
    const dir = m ? models[m[1]!] : undefined;
    const file = dir && !m![3]!.includes('..') ? join(dir, m![3]!) : undefined;
    if (!file || !existsSync(file) || !statSync(file).isFile()) return void res.writeHead(404).end('Entry not found');
    const size = statSync(file).size;
    let start = 0;
    let end = size - 1;
    const r = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    if (r) {
      start = Number(r[1]);
      if (r[2]) end = Math.min(end, Number(r[2]));
      if (start >= size) return void res.writeHead(416, { 'content-range': `bytes */${size}` }).end();
    }
    const headers: Record<string, string> = { 'content-length': String(end - start + 1), 'accept-ranges': 'bytes' };
    if (r) headers['content-range'] = `bytes ${start}-${end}/${size}`;
    res.writeHead(r ? 206 : 200, headers);
    if (req.method === 'HEAD') return void res.end();
    const drop = r ? undefined : drops.get(m![3]!); // size probes (ranged GETs) are not dropped
    if (drop !== undefined) {
      drops.delete(m![3]!);
      const stream = createReadStream(file, { start, end: Math.min(end, start + drop - 1) });
      stream.on('data', (c) => res.write(c));
      stream.on('end', () => setTimeout(() => res.socket?.destroy(), 20));
      return;
    }
    createReadStream(file, { start, end }).pipe(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    dropOnce: (file, bytes) => drops.set(file, bytes),
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
