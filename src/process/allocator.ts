/**
 * @module process/allocator
 * Optional glibc settings that make unloaded model memory go back to the operating system
 * sooner. onnxruntime allocates weights and pre-packed matrices with malloc; with glibc's
 * defaults part of an unloaded model's memory stays in the process (it is reused by the next
 * load, so RSS does not keep growing, but only part of it returns at once). Serving every
 * allocation from 1 MiB up with mmap returns nearly all of it, but makes each inference map and
 * fault in fresh pages for its larger temporary buffers, which slows greedy generation
 * measurably (see docs/benchmarks.md). So the tuning is opt-in: with HF_MODEL_SERVER_MALLOC_TUNING=1 the CLI relaunches itself once with these settings
 * (glibc reads them only at process start; Linux only; setting MALLOC_MMAP_THRESHOLD_ yourself
 * also works).
 */
import { spawn } from 'node:child_process';

/** The glibc settings applied. */
export const ALLOCATOR_ENV: Readonly<Record<string, string>> = {
  MALLOC_MMAP_THRESHOLD_: String(1 << 20),
  MALLOC_TRIM_THRESHOLD_: String(16 << 20),
  MALLOC_ARENA_MAX: '2',
};

/**
 * Whether this process should relaunch itself with {@link ALLOCATOR_ENV}: opted in (`--malloc-tuning`,
 * HF_MODEL_SERVER_MALLOC_TUNING=1), on Linux, and not applied yet.
 */
export function needsAllocatorRelaunch(optedIn: boolean, env: Record<string, string | undefined>, platform: NodeJS.Platform): boolean {
  return platform === 'linux' && optedIn && env.MALLOC_MMAP_THRESHOLD_ === undefined;
}

/**
 * Environment for starting the server as a child process directly (benchmarks): the allocator
 * settings when they are opted into, so the child does not relaunch itself; otherwise none.
 */
export function serverLaunchEnv(env: Record<string, string | undefined>): Readonly<Record<string, string>> {
  return env.HF_MODEL_SERVER_MALLOC_TUNING === '1' ? ALLOCATOR_ENV : {};
}

/**
 * Runs this same command again with the allocator settings, sharing stdin/stdout/stderr (so an
 * MCP client talks straight to the child), forwarding signals, and exiting with its status.
 */
export function relaunchWithAllocatorTuning(): Promise<never> {
  return new Promise<never>(() => {
    const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
      stdio: 'inherit',
      env: { ...process.env, ...ALLOCATOR_ENV },
    });
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => child.kill(sig));
    child.on('exit', (code, signal) =>
      process.exit(code ?? (signal ? 128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 1) : 1)),
    );
    child.on('error', () => process.exit(1));
  });
}
