/**
 * @module tasks/deps
 * What the task layer needs from the runtime, built once per process by app.ts and shared by
 * every front door (MCP over stdio and HTTP, REST), so all of them see one registry, loader and
 * executor.
 */
import type { Config } from '../config/config.js';
import type { HardwareInfo } from '../hardware/probe.js';
import type { Logger } from '../logger.js';
import type { MediaBudget } from '../media/budget.js';
import type { MediaDecoders } from '../media/decode-pool.js';
import type { Benchmarker } from '../runtime/benchmark.js';
import type { Breakers } from '../resilience/breaker.js';
import type { ResponseCache } from '../resilience/cache.js';
import type { Executor } from '../runtime/executor.js';
import type { ModelLoader } from '../runtime/loader.js';
import type { RuntimeMetrics } from '../runtime/metrics.js';
import type { Router } from '../runtime/router.js';
import type { Registry } from '../skills/registry.js';
import type { SkillChange } from '../skills/live.js';

export interface TaskDeps {
  config: Config;
  logger: Logger;
  registry: Registry;
  loader: ModelLoader;
  executor: Executor;
  hardware: HardwareInfo;
  metrics: RuntimeMetrics;
  /** Chooses the model for `model: "auto"` and learns from each routed call. */
  router: Router;
  benchmark: Benchmarker;
  breakers: Breakers;
  cache: ResponseCache;
  /** Decoded media bytes in flight (media/budget.ts). */
  mediaBudget: MediaBudget;
  /** Media decoding threads (media/decode-pool.ts). */
  mediaDecoders: MediaDecoders;
  /** Re-reads the skills folders now (the register_model tool); absent when skills are fixed. */
  reloadSkills?: (() => SkillChange) | undefined;
}
