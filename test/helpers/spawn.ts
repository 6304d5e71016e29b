/**
 * The built CLI (`dist/cli.js`) as a child process serving HTTP: started with the given args and
 * environment, resolved once it logs its listening URL. Its stderr is kept for assertions.
 */
import { spawn, type ChildProcess } from 'node:child_process';

export interface SpawnedServer {
  child: ChildProcess;
  /** The MCP URL it logged (`http(s)://host:port/mcp`). */
  url: string;
  /** Its origin (`http(s)://host:port`). */
  base: string;
  port: number;
  /** Everything it wrote on stderr so far (the last 100 kB). */
  stderr(): string;
}

/** Starts `node dist/cli.js ...args` (add `--log-level info` or lower: the URL is an info line). */
export async function spawnServer(args: string[], env: Record<string, string>, timeoutMs = 30_000): Promise<SpawnedServer> {
  const child = spawn(process.execPath, ['dist/cli.js', ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d) => (err = (err + d).slice(-100_000)));
  const url = await new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`server did not start: ${err.slice(-400)}`)), timeoutMs);
    const check = () => {
      const m = /"url":"(https?:\/\/[^"]+)"/.exec(err);
      if (m) {
        clearTimeout(t);
        resolve(m[1]!);
      }
    };
    child.stderr!.on('data', check);
    child.on('exit', (code) => reject(new Error(`server exited with ${code}: ${err.slice(-400)}`)));
  });
  const u = new URL(url);
  return { child, url, base: u.origin, port: Number(u.port), stderr: () => err };
}

/**
 * Built CLIs serving HTTP for one test file: `serve(args, env)` starts one at info level on a free
 * port (with the test environment); `killAll()`, in afterEach, stops every one started.
 */
export function httpServers(childEnv: (extra: Record<string, string>) => Record<string, string>) {
  let running: SpawnedServer[] = [];
  return {
    serve: async (args: string[] = [], env: Record<string, string> = {}): Promise<SpawnedServer> => {
      const s = await spawnServer(['--transport', 'http', '--port', '0', '--log-level', 'info', ...args], childEnv(env));
      running.push(s);
      return s;
    },
    killAll: async (): Promise<void> => {
      for (const s of running) {
        s.child.kill('SIGKILL');
        await new Promise((r) => (s.child.exitCode !== null ? r(null) : s.child.once('exit', r)));
      }
      running = [];
    },
  };
}

/** A JSON-RPC answer from a JSON body, or from the last message of an event stream. */
export async function rpcAnswer<T = Record<string, unknown>>(r: Response): Promise<T> {
  const text = await r.text();
  if (!(r.headers.get('content-type') ?? '').includes('text/event-stream')) return JSON.parse(text) as T;
  const data = text.split('\n').filter((l) => l.startsWith('data: '));
  return JSON.parse(data.at(-1)!.slice(6)) as T;
}
