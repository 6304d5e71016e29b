/**
 * @module hardware/threads
 * How the engine uses the cores, as a pure function of the host and the flags (the rule is
 * measured by `npm run bench -- engine`; figures in docs/benchmarks.md):
 * - Each model session gets one intra-op thread per compute core, set explicitly rather than left
 *   to onnxruntime, whose default counts the host's physical cores and ignores a container's CPU
 *   quota. One thread per session computed at roughly half the speed.
 * - One batch of a model runs at a time: onnxruntime-node computes on the model's worker thread,
 *   so a second batch could only wait behind the first while splitting the queue into smaller,
 *   slower batches.
 * - The event loop (protocol, tokenizing is in the model's worker) shares the cores with the
 *   inference threads. Pool threads spin during a run but stop when it ends
 *   (backends/session-options.ts), so between requests the cores are free for the event loop,
 *   the client and other models.
 * - Text encoders (embeddings, classification) may run as several replicas (`--replicas N`, off by
 *   default): N sessions per model, each in its own worker thread with cores/N intra-op threads,
 *   and N batches at a time. Single-threaded sessions never wait for a partner thread that the
 *   event loop preempted, so batched throughput under load rises; a single request, computed by
 *   fewer threads, takes longer, which is why it is not the default.
 * Compute cores are the CPUs this process may run on, one per physical core where the CPU runs
 * two threads per core, capped by a container's CPU quota (cgroup v2 `cpu.max`, v1 cfs files),
 * since a pod limited to 2 CPUs on a 64-core node must not start 64 threads per model.
 */

/** What the core count is derived from. */
export interface CoreInputs {
  /** CPUs this process may run on (os.availableParallelism(): the affinity mask). */
  available: number;
  /** Hardware threads per physical core (1 without SMT). */
  threadsPerCore: number;
  /** CPUs the container's quota allows (quota / period), or undefined when unlimited. */
  quotaCpus: number | undefined;
}

/** The compute cores: see the module notes. Always at least 1. */
export function computeCores(i: CoreInputs): number {
  let n = Math.max(1, Math.floor(i.available / Math.max(1, i.threadsPerCore)));
  if (i.quotaCpus !== undefined && Number.isFinite(i.quotaCpus) && i.quotaCpus > 0) n = Math.min(n, Math.max(1, Math.floor(i.quotaCpus)));
  return n;
}

/** Hardware threads per core from /proc/cpuinfo (`siblings` / `cpu cores`), 1 when unknown. */
export function threadsPerCore(cpuinfo: string | undefined): number {
  const siblings = Number(/^siblings\s*:\s*(\d+)/m.exec(cpuinfo ?? '')?.[1]);
  const cores = Number(/^cpu cores\s*:\s*(\d+)/m.exec(cpuinfo ?? '')?.[1]);
  return siblings > 0 && cores > 0 && siblings >= cores ? Math.round(siblings / cores) : 1;
}

/** CPUs a cgroup quota allows: v2 `cpu.max` ("max 100000" or "200000 100000"), else v1 quota and period. */
export function quotaCpus(cpuMax: string | undefined, cfsQuota?: string, cfsPeriod?: string): number | undefined {
  const v2 = /^(\d+)\s+(\d+)/.exec(cpuMax?.trim() ?? '');
  if (v2) return Number(v2[1]) / Number(v2[2]);
  const q = Number(cfsQuota);
  const p = Number(cfsPeriod);
  return q > 0 && p > 0 ? q / p : undefined;
}

/** The engine's thread settings. */
export interface ThreadPlan {
  /** onnxruntime intra-op threads per model session. */
  intraOpThreads: number;
  /** Batches of one model running at once. */
  batchConcurrency: number;
  /** Text encoders: sessions per model, each in its own worker thread. */
  encoderReplicas: number;
  /** Text encoders: intra-op threads per session. */
  encoderThreads: number;
  /** Text encoders: batches of one model running at once. */
  encoderBatchConcurrency: number;
}

/**
 * The thread plan for `cores` compute cores; a flag above 0 overrides its part (`replicas` is 1
 * where models do not run in worker threads, since replicas there could not run side by side).
 */
export function threadPlan(cores: number, flags: { threads: number; batchConcurrency: number; replicas: number }): ThreadPlan {
  const n = Math.max(1, cores);
  const replicas = Math.max(1, flags.replicas);
  return {
    intraOpThreads: flags.threads > 0 ? flags.threads : n,
    batchConcurrency: flags.batchConcurrency > 0 ? flags.batchConcurrency : 1,
    encoderReplicas: replicas,
    encoderThreads: flags.threads > 0 ? flags.threads : Math.max(1, Math.floor(n / replicas)),
    encoderBatchConcurrency: flags.batchConcurrency > 0 ? flags.batchConcurrency : replicas,
  };
}
