/**
 * @module tasks/views
 * Read-only views of the server's state that every front door shows the same way: one skill
 * with its status (MCP `hf://models/{name}`, REST `/v1/models/{id}`), and the hardware with
 * what each device's probe found (MCP `hf://hardware`, REST `/v1/hardware`).
 */
import type { TaskDeps } from './deps.js';

/** A skill's manifest, status, breaker state and load details; undefined for an unknown name. */
export function skillView(deps: TaskDeps, name: string) {
  const reg = deps.registry.get(name);
  if (!reg) return undefined;
  const s = reg.skill;
  const st = deps.loader.status(name);
  return {
    name: s.name,
    family: s.family,
    architecture: s.architecture,
    tasks: s.tasks,
    default_for: s.default_for,
    description: s.description,
    model: s.model,
    device: s.device ?? null,
    batch: s.batch,
    builtin: reg.builtin,
    file: reg.file,
    status: st.status,
    circuit_breaker: deps.breakers.state(name),
    ...(st.error ? { error: st.error } : {}),
    ...(s.license ? { license: s.license } : {}),
    ...(s.attribution ? { attribution: s.attribution } : {}),
    loaded: deps.loader.list().find((m) => m.model === name) ?? null,
  };
}

/**
 * The hardware report plus `runtime.verified`: for each device the selector may use, whether a
 * real session ran on it (probed once, on first need). A device that fails is reported with
 * the provider's reason and is never chosen.
 */
export async function hardwareView(deps: TaskDeps) {
  const verified = await deps.loader.verifyDevices();
  return {
    ...deps.hardware,
    runtime: {
      ...deps.hardware.runtime,
      usable: deps.hardware.runtime.usable.filter((d) => verified[d]?.ok !== false),
      verified,
    },
    // What the thread rule chose from cpu.computeCores and the flags.
    threads: deps.loader.sessionPlan,
  };
}
