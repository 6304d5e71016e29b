/**
 * @module backends/session-options
 * The onnxruntime session options every CPU model session gets, in one place for both backends
 * (transformers.js passes them through to onnxruntime-node).
 *
 * Intra-op threads come from the thread plan (hardware/threads.ts). Pool threads spin while a run
 * is in progress, where work arrives op after op, but stop when the run ends
 * (`session.force_spinning_stop`): left spinning, each session's pool keeps a core busy for tens
 * of milliseconds after every run, taking it from the event loop, the client and other models,
 * and from a container's CPU quota. Within a run, a thread that finds no work spins for at most
 * 200 µs before it sleeps (`session.intra_op.spin_duration_us`, instead of onnxruntime's built-in
 * spin count): the event loop and the other threads of a small machine get the core back sooner,
 * which both answers a lone request sooner and spends less CPU per batch under load.
 * `npm run bench -- engine` measures the choice (docs/benchmarks.md).
 */

/** onnxruntime-node session options for a model session with `threads` intra-op threads (0 = onnxruntime's default). */
export function sessionOptions(threads: number): {
  intraOpNumThreads?: number;
  interOpNumThreads?: number;
  extra: { session: Record<string, string> };
} {
  return {
    ...(threads > 0 ? { intraOpNumThreads: threads, interOpNumThreads: 1 } : {}),
    extra: { session: { force_spinning_stop: '1', 'intra_op.spin_duration_us': '200' } },
  };
}
