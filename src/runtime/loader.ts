/**
 * @module runtime/loader
 * Loads skills' models through a backend and keeps them loaded. It resolves where the files are
 * (local path, `--models-dir` mirror, download cache, Hub), picks devices with the pure selector
 * and falls back along them when session creation fails, dedupes concurrent loads of a model,
 * never caches a failed load, and counts work in flight so a model is never disposed under it.
 */
import { existsSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import type { Backend, LoadProgress, ModelHandle } from '../backends/types.js';
import type { Config } from '../config/config.js';
import { ServerError } from '../errors.js';
import type { HardwareInfo } from '../hardware/probe.js';
import { DeviceSelectionError, selectDevices } from '../hardware/select.js';
import type { Logger } from '../logger.js';
import type { Registry, RegisteredSkill } from '../skills/registry.js';
import type { Device, Task } from '../skills/schema.js';

/** Dependencies of the loader. */
export interface LoaderDeps {
  config: Config;
  registry: Registry;
  backend: Backend;
  hardware: HardwareInfo;
  logger: Logger;
}

/** Status of a skill's model. */
export type ModelStatus = 'available' | 'loading' | 'loaded' | 'failed';

/** A loaded model as reported by resources and tools. */
export interface LoadedModelInfo {
  model: string;
  task: Task;
  device: Device;
  dtype: string;
  source: string;
  loadMs: number;
  loadedAt: string;
  lastUsedAt: string;
  inFlight: number;
}

/** A handle borrowed for one request; call `release()` when done. */
export interface Lease {
  handle: ModelHandle;
  release(): void;
}

interface Entry {
  skill: RegisteredSkill;
  loading?: Promise<ModelHandle>;
  handle?: ModelHandle;
  info?: Omit<LoadedModelInfo, 'inFlight' | 'lastUsedAt'>;
  inFlight: number;
  lastUsed: number;
  unloadWhenIdle: boolean;
}

/**
 * Where a model's files are: an absolute folder, or a Hub id for transformers.js to fetch or
 * read from its cache. Offline, a Hub id must be in `--models-dir` or the download cache.
 */
export function resolveSource(id: string, revision: string, cfg: Pick<Config, 'modelsDir' | 'offline' | 'cacheDir'>, exists: (p: string) => boolean = existsSync): string {
  if (isAbsolute(id) || id.startsWith('./') || id.startsWith('../')) {
    const dir = resolve(id);
    if (!exists(dir)) throw new ServerError('model_not_found', `model folder ${dir} does not exist`);
    return dir;
  }
  if (cfg.modelsDir && exists(join(cfg.modelsDir, id, 'config.json'))) return join(cfg.modelsDir, id);
  if (cfg.offline) {
    const cached = join(cfg.cacheDir, id, ...(revision === 'main' ? [] : [revision]), 'config.json');
    if (exists(cached)) return id;
    throw new ServerError(
      'model_not_found',
      `model "${id}" is not available offline. Put its folder at ${join(cfg.modelsDir ?? '<models-dir>', id)} and pass --models-dir, ` +
        `or run once without --offline to download it into ${cfg.cacheDir}.`,
    );
  }
  return id;
}

/** The model loader. */
export class ModelLoader {
  private readonly entries = new Map<string, Entry>();
  private readonly failures = new Map<string, { error: ServerError; at: string }>();

  constructor(private readonly deps: LoaderDeps) {}

  /** Status of a skill (and the last load error, if it failed). */
  status(name: string): { status: ModelStatus; error?: string } {
    const e = this.entries.get(name);
    if (e?.handle) return { status: 'loaded' };
    if (e?.loading) return { status: 'loading' };
    const f = this.failures.get(name);
    return f ? { status: 'failed', error: `${f.error.code}: ${f.error.message}` } : { status: 'available' };
  }

  /** Loaded models. */
  list(): LoadedModelInfo[] {
    return [...this.entries.values()]
      .filter((e) => e.handle && e.info)
      .map((e) => ({ ...e.info!, inFlight: e.inFlight, lastUsedAt: new Date(e.lastUsed).toISOString() }));
  }

  private skill(name: string, task?: Task): RegisteredSkill {
    const s = this.deps.registry.get(name);
    if (!s) {
      const valid = this.deps.registry.skills.map((x) => x.skill.name).join(', ');
      throw new ServerError('unknown_model', `unknown model "${name}"; valid: ${valid}`);
    }
    if (task && !s.skill.tasks.includes(task)) {
      throw new ServerError('unsupported_task', `model "${name}" does not serve ${task} (it serves ${s.skill.tasks.join(', ')})`);
    }
    return s;
  }

  /** Borrows a loaded handle (loading it if needed) for one request. */
  async acquire(name: string, task: Task, onProgress?: (p: LoadProgress) => void): Promise<Lease> {
    const skill = this.skill(name, task);
    let entry = this.entries.get(name);
    if (!entry) {
      entry = { skill, inFlight: 0, lastUsed: Date.now(), unloadWhenIdle: false };
      this.entries.set(name, entry);
    }
    entry.inFlight++;
    entry.unloadWhenIdle = false;
    try {
      const handle = entry.handle ?? (await (entry.loading ??= this.loadEntry(entry, onProgress)));
      entry.lastUsed = Date.now();
      let released = false;
      return {
        handle,
        release: () => {
          if (released) return;
          released = true;
          entry.inFlight--;
          entry.lastUsed = Date.now();
          if (entry.inFlight === 0 && entry.unloadWhenIdle) void this.disposeEntry(name, entry);
        },
      };
    } catch (e) {
      entry.inFlight--;
      throw e;
    }
  }

  /** Loads a model without running anything (the `load_model` tool). */
  async load(name: string, onProgress?: (p: LoadProgress) => void): Promise<LoadedModelInfo> {
    const skill = this.skill(name);
    const lease = await this.acquire(name, skill.skill.tasks[0]!, onProgress);
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
    await this.disposeEntry(name, entry);
    return 'unloaded';
  }

  /** Disposes every loaded model. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.entries.entries()].map(([n, e]) => this.disposeEntry(n, e)));
  }

  private async disposeEntry(name: string, entry: Entry): Promise<void> {
    if (this.entries.get(name) === entry) this.entries.delete(name);
    const h = entry.handle ?? (await entry.loading?.catch(() => undefined));
    entry.handle = undefined;
    if (h) {
      await h.dispose();
      this.deps.logger.info({ model: name }, 'model unloaded');
    }
  }

  private async loadEntry(entry: Entry, onProgress?: (p: LoadProgress) => void): Promise<ModelHandle> {
    const { config, backend, hardware, logger } = this.deps;
    const s = entry.skill.skill;
    const name = s.name;
    const t0 = performance.now();
    try {
      const source = resolveSource(s.model.id, s.model.revision, config);
      let devices: Device[];
      try {
        devices = selectDevices({
          usable: hardware.runtime.usable.filter((d) => backend.devices.includes(d)),
          preference: s.device,
          forced: config.device,
        });
      } catch (e) {
        throw new ServerError('model_load_failed', (e as DeviceSelectionError).message);
      }
      let lastErr: unknown;
      for (const device of devices) {
        const dtype = s.model.dtype[device];
        logger.info({ model: name, source, device, dtype: dtype ?? 'fp32' }, 'loading model');
        onProgress?.({ phase: 'session', progress: 0 });
        try {
          const handle = await backend.load({
            source,
            revision: s.model.revision,
            task: s.tasks[0]!,
            device,
            dtype,
            threads: config.threads,
            onProgress: (p) => {
              logger.debug({ model: name, ...p }, 'load progress');
              onProgress?.(p);
            },
          });
          const loadMs = Math.round(performance.now() - t0);
          entry.handle = handle;
          entry.info = { model: name, task: s.tasks[0]!, device, dtype: handle.dtype, source, loadMs, loadedAt: new Date().toISOString() };
          this.failures.delete(name);
          logger.info({ model: name, device, loadMs }, 'model loaded');
          return handle;
        } catch (e) {
          lastErr = e;
          const err = e instanceof ServerError ? e : new ServerError('model_load_failed', String(e));
          if (err.code !== 'model_load_failed' || device === devices.at(-1)) throw err;
          logger.warn({ model: name, device, reason: err.message, next: devices[devices.indexOf(device) + 1] }, 'device failed, falling back');
        }
      }
      throw lastErr;
    } catch (e) {
      const err = e instanceof ServerError ? e : new ServerError('model_load_failed', String(e), { cause: e });
      this.failures.set(name, { error: err, at: new Date().toISOString() });
      if (this.entries.get(name) === entry) this.entries.delete(name); // never cache a failed load
      logger.warn({ model: name, code: err.code, reason: err.message }, 'model load failed');
      throw err;
    } finally {
      entry.loading = undefined;
    }
  }
}
