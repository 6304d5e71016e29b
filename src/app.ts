/**
 * @module app
 * Builds the process-wide runtime once from a frozen config: logger, skill registry, hardware
 * probe, backend, loader and executor. Transports share the result.
 */
import { OnnxBackend } from './backends/onnx/backend.js';
import { RouterBackend } from './backends/router.js';
import { TransformersBackend } from './backends/transformers.js';
import { WorkerBackend } from './backends/worker.js';
import type { Backend } from './backends/types.js';
import { parseRoutes, skillDirs, type Config } from './config/config.js';
import { probeHardware, type HardwareInfo } from './hardware/probe.js';
import { threadPlan } from './hardware/threads.js';
import { createLogger, type Logger } from './logger.js';
import type { ServerDeps } from './mcp/deps.js';
import { ToolTasks } from './mcp/tasks.js';
import { ToolSchemas } from './mcp/schemas.js';
import { CpuUtilization, GpuUtilization } from './hardware/utilization.js';
import { buildTasks } from './tasks/index.js';
import type { TaskDeps } from './tasks/deps.js';
import { MediaBudget } from './media/budget.js';
import { MediaDecoders } from './media/decode-pool.js';
import { Benchmarker } from './runtime/benchmark.js';
import { Executor } from './runtime/executor.js';
import { ModelLoader } from './runtime/loader.js';
import { RuntimeMetrics } from './runtime/metrics.js';
import { Router } from './runtime/router.js';
import { Breakers } from './resilience/breaker.js';
import { ResponseCache } from './resilience/cache.js';
import { Gauge } from 'prom-client';
import { LiveRegistry, type SkillChange } from './skills/live.js';
import { watchSkillDirs } from './skills/watch.js';

/** Optional replacements (tests inject a logger, a backend or a hardware report). */
export interface AppOverrides {
  logger?: Logger;
  backend?: Backend;
  hardware?: HardwareInfo;
  /** Built-in skills folder; null to load only --skills-dir. */
  builtinSkillsDir?: string | null;
  /** Passed to the transformers.js backend (tests turn the download cache off). */
  useFsCache?: boolean;
  /** Resident-memory probe for the loader's model sizing (tests pass () => 0 to size by files). */
  rss?: () => number;
}

/** The runtime and how to shut it down. */
export interface App {
  deps: ServerDeps;
  close(): Promise<void>;
}

export function createApp(config: Config, o: AppOverrides = {}): App {
  const logger = o.logger ?? createLogger(config.logLevel);
  // Skills added with `add` (the configuration folder's skills/), then each --skills-dir.
  const userDirs = skillDirs(config);
  const registry = new LiveRegistry({ builtinDir: o.builtinSkillsDir, userDirs, logger });
  const hardware = o.hardware ?? probeHardware();
  for (const note of hardware.runtime.notes) logger.warn({ note }, 'hardware');
  const backendOptions = {
    offline: config.offline,
    cacheDir: config.cacheDir,
    useFsCache: o.useFsCache ?? true,
    hubEndpoint: config.hubEndpoint,
    hubToken: config.hubToken,
  };
  const backend =
    o.backend ??
    (config.inferenceThread === 'worker'
      ? new WorkerBackend(backendOptions)
      : new RouterBackend([new TransformersBackend(backendOptions), new OnnxBackend()]));
  const metrics = new RuntimeMetrics();
  const breakers = new Breakers({ resetTimeoutMs: config.breakerResetMs });
  const cache = new ResponseCache({ maxBytes: config.cacheBytes, ttlMs: config.cacheTtlMs });
  new Gauge({
    name: 'circuit_breaker_state',
    help: 'Circuit breaker per model: 0 closed, 1 half-open, 2 open.',
    labelNames: ['model'],
    registers: [metrics.registry],
    collect() {
      for (const [model, state] of breakers.states()) this.set({ model }, state === 'open' ? 2 : state === 'half_open' ? 1 : 0);
    },
  });
  /** A gauge whose one value is read at each scrape. */
  const valueGauge = (name: string, help: string, read: () => number) =>
    new Gauge({
      name,
      help,
      registers: [metrics.registry],
      collect() {
        this.set(read());
      },
    });
  valueGauge('cache_hit_ratio', 'Response cache hits / lookups since start.', () => cache.hitRatio);
  const cpuUse = new CpuUtilization(hardware.cpu.cores);
  const gpuUse = hardware.nvidia.present ? new GpuUtilization() : undefined;
  const deviceMemory = new Gauge({
    name: 'hardware_device_memory_used_bytes',
    help: 'Memory in use on each GPU, as its driver reports it (all processes).',
    labelNames: ['hardware'],
    registers: [metrics.registry],
  });
  new Gauge({
    name: 'hardware_utilization_percent',
    help: 'Hardware busy share: this process on the CPU (all cores) since the last scrape, and each NVIDIA GPU (nvidia-smi).',
    labelNames: ['hardware'],
    registers: [metrics.registry],
    async collect() {
      this.set({ hardware: 'cpu' }, cpuUse.read());
      for (const g of (await gpuUse?.read()) ?? []) {
        this.set({ hardware: g.hardware }, g.utilizationPercent);
        deviceMemory.set({ hardware: g.hardware }, g.memoryUsedBytes);
      }
    },
  });
  const mediaBudget = new MediaBudget(config.media.memoryBytes);
  valueGauge(
    'media_decode_bytes',
    'Estimated bytes of decoded media held by calls in flight (bounded by --media-memory).',
    () => mediaBudget.inUse,
  );
  // One decoding thread per spare core, at most two: decoding is bursty and models need the cores.
  const mediaDecoders = new MediaDecoders(Math.max(1, Math.min(2, hardware.cpu.cores - 1)));
  // Replicas run side by side only in worker threads.
  const threads = threadPlan(hardware.cpu.computeCores, {
    ...config,
    replicas: config.inferenceThread === 'worker' ? config.replicas : 1,
  });
  logger.debug({ cores: hardware.cpu.computeCores, ...threads }, 'thread plan');
  const loader = new ModelLoader({
    config,
    registry,
    backend,
    hardware,
    logger,
    metrics,
    threads: threads.intraOpThreads,
    encoder: { threads: threads.encoderThreads, replicas: threads.encoderReplicas },
    ...(o.rss ? { rss: o.rss } : {}),
  });
  valueGauge(
    'memory_budget_bytes',
    'The memory budget for loaded models (--memory-budget); hardware_memory_used_bytes counts against it.',
    () => loader.budget,
  );
  const executor = new Executor(loader, registry, {
    maxConcurrency: config.maxConcurrency,
    maxQueue: config.maxQueue,
    // Half the queue per client (never less than one full call), so one backlog cannot fill it.
    maxQueuePerClient: Math.max(Math.ceil(config.maxQueue / 2), config.limits.maxTexts),
    batchConcurrency: threads.batchConcurrency,
    textBatchConcurrency: threads.encoderBatchConcurrency,
    modelRateLimit: config.modelRateLimit,
    breakers,
    metrics,
  });
  for (const name of config.preload) {
    void loader.load(name).catch((e: unknown) => logger.error({ model: name, err: (e as Error).message }, 'preload failed'));
  }
  const benchmark = new Benchmarker({ config, registry, backend, loader });
  const router = new Router(parseRoutes(config.routes), Math.random);
  const taskDeps: TaskDeps = {
    router,
    config,
    logger,
    registry,
    loader,
    executor,
    hardware,
    metrics,
    benchmark,
    breakers,
    cache,
    mediaBudget,
    mediaDecoders,
  };
  // Skills change at run time (watched folders, register_model): retire what changed, rebuild
  // the task set in place (every front door holds this map), then tell the servers.
  const tasks = new Map(buildTasks(taskDeps));
  const skillListeners = new Set<(c: SkillChange) => void>();
  registry.onChange((c) => {
    if (c.added.length + c.removed.length + c.changed.length > 0) {
      for (const name of [...c.removed, ...c.changed]) {
        loader.retire(name);
        executor.forget(name);
      }
      cache.clear();
      tasks.clear();
      for (const [name, task] of buildTasks(taskDeps)) tasks.set(name, task);
      logger.info({ added: c.added, removed: c.removed, changed: c.changed, tools: [...tasks.keys()] }, 'skills changed');
    }
    for (const fn of skillListeners) fn(c);
  });
  taskDeps.reloadSkills = () => registry.reload();
  const toolTasks = new ToolTasks({ ttlMs: config.taskTtlMs, maxPerClient: config.maxTasksPerClient });
  const stopWatching =
    config.noWatch || userDirs.length === 0 ? () => undefined : watchSkillDirs(userDirs, () => registry.reload(), logger);
  return {
    deps: {
      ...taskDeps,
      tasks,
      toolTasks,
      toolSchemas: new ToolSchemas(),
      onSkillsChanged: (fn) => {
        skillListeners.add(fn);
        return () => skillListeners.delete(fn);
      },
    },
    close: async () => {
      stopWatching();
      toolTasks.close();
      breakers.shutdown();
      await mediaDecoders.close();
      await loader.close();
    },
  };
}
