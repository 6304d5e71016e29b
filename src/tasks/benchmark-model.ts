/**
 * @module tasks/benchmark-model
 * `benchmark_model`: latency and throughput of a model on each usable device (operators).
 */
import { z } from 'zod';
import { DEVICES } from '../skills/schema.js';
import { TASKS } from '../skills/schema.js';
import type { TaskDeps } from './deps.js';
import { ADMIN_SCOPE } from './scopes.js';
import { skillFor, skillNameField } from './common.js';
import { defineTask, type AnyTask } from './task.js';

export function benchmarkModelTask(deps: TaskDeps): AnyTask | undefined {
  const names = deps.registry.skills.map((s) => s.skill.name);
  if (names.length === 0) return undefined;
  return defineTask({
    name: 'benchmark_model',
    title: 'Benchmark model',
    description: "Measure a model's latency and throughput per device (on a temporary copy). For operators.",
    inputSchema: {
      model: skillNameField('Skill to benchmark'),
      iterations: z.number().int().min(1).max(200).default(10).describe('Timed runs per device.'),
      batch_size: z.number().int().min(1).max(256).default(1).describe('Texts per run (embedding/classification).'),
      devices: z.array(z.enum(DEVICES)).min(1).optional().describe('Devices to try. Default: every usable device.'),
    },
    outputSchema: {
      model: z.string(),
      results: z.array(
        z.object({
          device: z.string(),
          dtype: z.string(),
          ok: z.boolean(),
          error: z.string().optional(),
          loadMs: z.number().optional(),
          iterations: z.number().optional(),
          batchSize: z.number().optional(),
          latencyMs: z.object({ p50: z.number(), p95: z.number(), mean: z.number() }).optional(),
          throughput: z.number().optional(),
          unit: z.enum(['items/s', 'tokens/s']).optional(),
        }),
      ),
    },
    annotations: { title: 'Benchmark model', readOnlyHint: true, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    scope: ADMIN_SCOPE,
    prepare: (args) => {
      skillFor(deps.registry, args.model, TASKS);
      return args;
    },
    cacheable: () => false,
    handler: async (args, ctx) => {
      deps.logger.info({ model: args.model, admin: 'benchmark_model', client: ctx.client }, 'admin action');
      const results = await deps.benchmark.run(args.model, {
        iterations: args.iterations,
        batchSize: args.batch_size,
        ...(args.devices ? { devices: args.devices } : {}),
      });
      return { model: args.model, results };
    },
  });
}
