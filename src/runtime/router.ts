/**
 * @module runtime/router
 * `model: "auto"`: picks, per call, which of the skills able to serve it runs it.
 *
 * - **Learning** (the default): Thompson sampling over each arm's log latency per unit of work
 *   (per text, per generated token, per image), on the device the model runs on. Each arm keeps
 *   a discounted mean and variance, so a model that gets slower (evicted and reloading, or its
 *   queue loaded by another client) is seen within a few calls; sampling from the posterior
 *   explores in proportion to the remaining doubt without a tuning constant, which UCB would
 *   need for latencies of unknown scale. An arm never tried is tried first, and one unused for
 *   30 s is tried again once (its figures only change when it runs).
 * - **Pinned splits** (`--route embed=a:90,b:10`): weighted random, exactly as configured.
 * - **Sticky keys**: a `route_key` maps to the same arm for as long as that arm is eligible
 *   (weighted rendezvous hashing, so adding an arm moves only the keys it wins), because
 *   embeddings of different models are not comparable.
 * - **Quality**: only arms of the best `quality` tier among the eligible ones are considered,
 *   unless the caller allows lower tiers.
 *
 * A decision is a few arithmetic operations per arm (measured by `npm run bench -- router`).
 */
import { createHash } from 'node:crypto';
import type { RouteSplit } from '../config/config.js';

/** A source of uniform numbers in [0, 1). */
type Prng = () => number;

/** Weight of an observation against the arm's past: about the last 20 count. */
const DECAY = 0.95;
/** Prior spread of log latency, so one lucky observation does not end exploration. */
const PRIOR_VAR = 0.25;
/** Latencies kept per arm for the p95 shown in hf://router. */
const WINDOW = 200;
/**
 * An arm not chosen for this long is tried once more: its figures only change when it runs, so
 * a model that was slow or failing (and has since been reloaded or fixed) would otherwise never
 * get another call.
 */
const RETRY_AFTER_MS = 30_000;

/** One arm's state. */
interface Arm {
  choices: number;
  /** Discounted count, mean and second moment of log(ms per unit). */
  n: number;
  mean: number;
  sq: number;
  /** Recent ms per unit, oldest first. */
  recent: number[];
  device: string;
  /** When it last ran (ms, the router's clock). */
  lastAt: number;
}

/** A candidate for a call: its name and quality tier. */
export interface Candidate {
  model: string;
  quality: number;
}

/** How a decision was made. */
export type RouteWay = 'learned' | 'explore' | 'split' | 'sticky';

/** A tool's configured split: model -> weight (parsed from `--route` by config's parseRoutes). */
export type Split = RouteSplit;

/** What hf://router shows per tool. */
export interface RouterView {
  tool: string;
  split?: Split;
  arms: Array<{
    model: string;
    choices: number;
    share: number;
    mean_ms_per_unit: number | null;
    p95_ms_per_unit: number | null;
    device: string;
  }>;
}

export class Router {
  private readonly arms = new Map<string, Map<string, Arm>>();

  constructor(
    private readonly splits: ReadonlyMap<string, Split>,
    private readonly random: Prng,
    private readonly now: () => number = Date.now,
  ) {}

  private arm(tool: string, model: string): Arm {
    let byModel = this.arms.get(tool);
    if (!byModel) this.arms.set(tool, (byModel = new Map()));
    let a = byModel.get(model);
    if (!a) byModel.set(model, (a = { choices: 0, n: 0, mean: 0, sq: 0, recent: [], device: 'none', lastAt: 0 }));
    return a;
  }

  /**
   * Picks one of `candidates` (already checked to serve the call) for `tool`. With `key`, the
   * same key gets the same model while it stays a candidate.
   */
  choose(
    tool: string,
    candidates: readonly Candidate[],
    o: { key?: string | undefined; allowLowerQuality?: boolean } = {},
  ): { model: string; way: RouteWay } {
    if (candidates.length === 0) throw new Error('router: no candidates');
    const top = Math.max(...candidates.map((c) => c.quality));
    const pool = o.allowLowerQuality ? candidates : candidates.filter((c) => c.quality === top);
    const split = this.splits.get(tool);
    const weighted = split ? split.filter((s) => pool.some((c) => c.model === s.model)) : undefined;
    let pick: { model: string; way: RouteWay };
    if (o.key !== undefined) {
      const arms = weighted?.length ? weighted : pool.map((c) => ({ model: c.model, weight: 1 }));
      pick = { model: rendezvous(o.key, arms), way: 'sticky' };
    } else if (weighted?.length) {
      pick = { model: weightedPick(weighted, this.random()), way: 'split' };
    } else {
      pick = this.sample(tool, pool);
    }
    this.arm(tool, pick.model).choices++;
    return pick;
  }

  /** Thompson sampling on log latency per unit: the lowest draw wins; untried and long-unused arms first. */
  private sample(tool: string, pool: readonly Candidate[]): { model: string; way: RouteWay } {
    let best = '';
    let bestDraw = Infinity;
    const stale = this.now() - RETRY_AFTER_MS;
    for (const c of pool) {
      const a = this.arm(tool, c.model);
      if (a.n === 0 || a.lastAt < stale) {
        // Marked as run now, so concurrent calls do not all retry it at once.
        a.lastAt = this.now();
        return { model: c.model, way: 'explore' };
      }
      const variance = Math.max(a.sq - a.mean * a.mean, 0) + PRIOR_VAR / (1 + a.n);
      const draw = a.mean + Math.sqrt(variance / a.n) * gaussian(this.random);
      if (draw < bestDraw) {
        bestDraw = draw;
        best = c.model;
      }
    }
    return { model: best, way: 'learned' };
  }

  /** Records what a routed call cost: `ms` for `units` of work on `device`. */
  observe(tool: string, model: string, device: string, ms: number, units: number): void {
    const perUnit = Math.max(ms, 0.001) / Math.max(units, 1);
    const a = this.arm(tool, model);
    const x = Math.log(perUnit);
    a.n = a.n * DECAY + 1;
    const w = 1 / a.n;
    a.mean += w * (x - a.mean);
    a.sq += w * (x * x - a.sq);
    a.device = device;
    a.lastAt = this.now();
    a.recent.push(perUnit);
    if (a.recent.length > WINDOW) a.recent.shift();
  }

  /**
   * Records that a routed call failed through the model's or the server's fault (it could not
   * load, inference failed, it timed out or was overloaded): it counts as a call ten times slower
   * than the slowest seen, so a broken model stops drawing traffic instead of being retried as
   * untried forever. Caller mistakes are not the model's fault and are not recorded.
   */
  fail(tool: string, model: string): void {
    const seen = [...(this.arms.get(tool)?.values() ?? [])].flatMap((a) => a.recent);
    this.observe(tool, model, this.arm(tool, model).device, 10 * Math.max(1000, ...seen), 1);
  }

  /** Every tool's arms, for hf://router. */
  view(): RouterView[] {
    const out: RouterView[] = [];
    const tools = new Set([...this.arms.keys(), ...this.splits.keys()]);
    for (const tool of tools) {
      const arms = [...(this.arms.get(tool) ?? new Map<string, Arm>())];
      const total = arms.reduce((s, [, a]) => s + a.choices, 0);
      out.push({
        tool,
        ...(this.splits.has(tool) ? { split: this.splits.get(tool) } : {}),
        arms: arms.map(([model, a]) => {
          const sorted = [...a.recent].sort((x, y) => x - y);
          return {
            model,
            choices: a.choices,
            share: total ? round(a.choices / total) : 0,
            mean_ms_per_unit: sorted.length ? round(sorted.reduce((s, v) => s + v, 0) / sorted.length) : null,
            p95_ms_per_unit: sorted.length ? round(sorted[Math.min(sorted.length - 1, Math.floor(0.95 * sorted.length))]!) : null,
            device: a.device,
          };
        }),
      });
    }
    return out;
  }
}

const round = (x: number) => Math.round(x * 1000) / 1000;

/** A standard normal draw (Box-Muller). */
function gaussian(random: Prng): number {
  const u = Math.max(random(), Number.MIN_VALUE);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

function weightedPick(arms: Split, u: number): string {
  const total = arms.reduce((s, a) => s + a.weight, 0);
  let x = u * total;
  for (const a of arms) if ((x -= a.weight) < 0) return a.model;
  return arms.at(-1)!.model;
}

/** Weighted rendezvous hashing: the arm with the best -w/ln(h(key, arm)) wins. */
function rendezvous(key: string, arms: Split): string {
  let best = arms[0]!.model;
  let bestScore = -Infinity;
  for (const a of arms) {
    const h = createHash('sha256').update(key).update('\0').update(a.model).digest();
    const u = (h.readUIntBE(0, 6) + 1) / (2 ** 48 + 2);
    const score = -a.weight / Math.log(u);
    if (score > bestScore) {
      bestScore = score;
      best = a.model;
    }
  }
  return best;
}
