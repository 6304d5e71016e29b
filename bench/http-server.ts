/**
 * @module bench/http-server
 * Starts the built server with the HTTP transport on a free loopback port for benchmarks
 * (with the allocator settings the CLI would relaunch itself with, so `pid` is the server).
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { serverLaunchEnv } from '../src/process/allocator.js';

const ROOT = join(dirname(new URL(import.meta.url).pathname), '..');

export interface BenchServer {
  url: string;
  pid: number;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number>;
}

export async function startHttpServer(args: string[]): Promise<BenchServer> {
  // BENCH_NODE_ARGS: extra Node flags for the server (e.g. --cpu-prof), to see where its time goes.
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child = spawn(
    process.execPath,
    [...nodeArgs, join(ROOT, 'dist/cli.js'), '--transport', 'http', '--port', '0', '--log-level', 'info', ...args],
    {
      env: { ...process.env, ...serverLaunchEnv(process.env) },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let err = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start: ${err.slice(-400)}`)), 30_000);
    child.stderr!.on('data', (d) => {
      err = (err + d).slice(-100_000);
      const m = /"url":"(http:[^"]+)"/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
  });
  return {
    url,
    pid: child.pid!,
    stop: async () => {
      child.kill('SIGTERM');
      return new Promise<number>((r) => child.on('exit', (c) => r(c ?? -1)));
    },
  };
}
