/**
 * @module process/allocator
 * Makes unloaded model memory go back to the operating system. onnxruntime allocates weights
 * and pre-packed matrices with malloc; with glibc's defaults, freed blocks of unloaded models
 * stay in the process (RSS keeps growing as models cycle). Serving large allocations with mmap
 * and capping malloc arenas returns them on free. glibc reads these settings only at process
 * start, so the CLI relaunches itself once with them (Linux only; set
 * HF_MODEL_SERVER_MALLOC_TUNING=0 to opt out, or set MALLOC_MMAP_THRESHOLD_ yourself).
 */
import { spawn } from 'node:child_process';

/** The glibc settings applied. */
export const ALLOCATOR_ENV: Readonly<Record<string, string>> = {
  MALLOC_MMAP_THRESHOLD_: String(1 << 20),
  MALLOC_TRIM_THRESHOLD_: String(16 << 20),
  MALLOC_ARENA_MAX: '2',
};

/** Whether this process should relaunch itself with {@link ALLOCATOR_ENV}. */
export function needsAllocatorRelaunch(env: Record<string, string | undefined>, platform: NodeJS.Platform): boolean {
  return platform === 'linux' && env.HF_MODEL_SERVER_MALLOC_TUNING !== '0' && env.MALLOC_MMAP_THRESHOLD_ === undefined;
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
    child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 1) : 1)));
    child.on('error', () => process.exit(1));
  });
}
