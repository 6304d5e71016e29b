/**
 * @module tasks/embed
 * `embed`: sentence embeddings, as float arrays or OpenAI-style base64 of little-endian float32,
 * optionally truncated to `dimensions` and renormalised.
 */
import { z } from 'zod';
import { ServerError } from '../errors.js';
import { normalizeInPlace, toJsonFloats } from '../vectors.js';
import type { TaskDeps } from './deps.js';
import { imageFields, inlineMedia, withImage } from './media.js';
import { INFER_SCOPE } from './scopes.js';
import { READ_ONLY, UsageSchema, checkTexts, modelField, modelsFor, skillFor, MAX_TOKEN_ID } from './common.js';
import { defineTask, type AnyTask } from './task.js';

/** float32 little-endian bytes, base64 (the OpenAI `encoding_format: base64` layout). */
export function toBase64(v: Float32Array): string {
  const buf = Buffer.alloc(v.length * 4);
  for (let i = 0; i < v.length; i++) buf.writeFloatLE(v[i]!, i * 4);
  return buf.toString('base64');
}

/** Truncates to `dims`, L2-renormalising when `normalize`. */
export function truncate(v: Float32Array, dims: number, normalize: boolean): Float32Array {
  const out = v.slice(0, dims);
  return normalize ? normalizeInPlace(out) : out;
}

export function embedTask(deps: TaskDeps): AnyTask | undefined {
  const textModels = modelsFor(deps.registry, ['feature-extraction']);
  // CLIP-style models embed images and texts into one space (text-to-image search).
  const clipModels = modelsFor(deps.registry, ['zero-shot-image-classification']);
  const models = [...new Set([...textModels, ...clipModels])];
  if (textModels.length === 0) return undefined;
  const isClip = (name: string) => clipModels.includes(name) && !textModels.includes(name);
  return defineTask({
    name: 'embed',
    title: 'Embed texts',
    description:
      'Embed texts as vectors (or images, with a CLIP model: one space for text-to-image search). To rank texts, use `similarity` or `rerank`.',
    inputSchema: {
      texts: z
        .array(z.string())
        .min(1)
        .optional()
        .describe(`Texts to embed (1 to ${deps.config.limits.maxTexts}, each up to ${deps.config.limits.maxTextChars} characters).`),
      token_ids: z
        .array(z.array(z.number().int().min(0).max(MAX_TOKEN_ID)).min(1))
        .min(1)
        .optional()
        .describe('Instead of texts: token id lists (from `tokenize`).'),
      ...imageFields,
      model: modelField(models, 'Embedding model (a CLIP-style one for images).'),
      route_key: z.string().max(200).optional().describe('With model "auto": the same key always gets the same model.'),
      normalize: z.boolean().default(true).describe('L2-normalise vectors (cosine similarity = dot product).'),
      pooling: z.enum(['mean', 'cls', 'none']).default('mean').describe("cls: the first token; none: every token's vector."),
      dimensions: z.number().int().min(1).max(65536).optional().describe('Keep the first N dimensions.'),
      encoding: z.enum(['float', 'base64']).default('float').describe('base64: little-endian float32 bytes.'),
    },
    outputSchema: {
      model: z.string(),
      dims: z.number(),
      encoding: z.enum(['float', 'base64']),
      embeddings: z.array(z.union([z.array(z.number()), z.string(), z.array(z.array(z.number()))])),
      usage: UsageSchema,
    },
    annotations: { title: 'Embed texts', ...READ_ONLY },
    scope: INFER_SCOPE,
    prepare: (args) => {
      const image = args.image !== undefined || args.image_base64 !== undefined;
      if ([args.texts, args.token_ids].filter((x) => x !== undefined).length + (image ? 1 : 0) !== 1)
        throw new ServerError('invalid_input', 'give exactly one of `texts`, `token_ids` or an image (`image` or `image_base64`)');
      if (isClip(args.model)) {
        skillFor(deps.registry, args.model, ['zero-shot-image-classification']);
        if (args.token_ids) throw new ServerError('invalid_input', 'token_ids go with text embedding models, not CLIP-style ones');
        if (args.pooling !== 'mean') throw new ServerError('invalid_input', 'a CLIP-style model gives one vector per input: leave pooling');
      } else {
        skillFor(deps.registry, args.model, ['feature-extraction']);
        if (image)
          throw new ServerError(
            'unsupported_task',
            `model "${args.model}" embeds text only; for images use a CLIP-style model${clipModels.length ? ` (${clipModels.join(', ')})` : ''}`,
          );
      }
      if (args.texts) checkTexts(args.texts, 'texts', deps.config.limits);
      if (args.pooling === 'none' && args.encoding === 'base64')
        throw new ServerError('invalid_input', 'pooling none gives a vector per token: use encoding float', {
          details: { field: 'encoding' },
        });
      const lim = deps.config.limits;
      if (args.token_ids) {
        if (args.token_ids.length > lim.maxTexts)
          throw new ServerError('input_too_large', `token_ids has ${args.token_ids.length} items; the limit is ${lim.maxTexts} per call`);
        // A token is at least one character of text: the text limit bounds the ids too.
        const long = args.token_ids.findIndex((ids) => ids.length > lim.maxTextChars);
        if (long >= 0) throw new ServerError('input_too_large', `token_ids[${long}] has more than ${lim.maxTextChars} ids`);
      }
      return args;
    },
    cacheable: (args) => (args.image !== undefined || args.image_base64 !== undefined ? inlineMedia(args.image, args.image_base64) : true),
    handler: async (args, ctx) => {
      const image = args.image !== undefined || args.image_base64 !== undefined;
      const out = image
        ? await withImage(args, deps, ctx, (pixels) => deps.executor.run(args.model, { task: 'image-embedding', image: pixels }, ctx.run))
        : isClip(args.model)
          ? await deps.executor.run(args.model, { task: 'clip-text-embedding', texts: args.texts! }, ctx.run)
          : await deps.executor.run(
              args.model,
              {
                task: 'feature-extraction',
                texts: args.texts ?? [],
                ids: args.token_ids,
                pooling: args.pooling,
                normalize: args.normalize,
              },
              ctx.run,
            );
      const tokens = out.tokens.reduce((a, b) => a + b, 0);
      const usage = { prompt_tokens: tokens, total_tokens: tokens };
      // Per-token vectors arrive flat ([tokens x hidden]); split them into rows.
      const perToken = args.pooling === 'none';
      const rowsOf = (v: Float32Array, i: number) => {
        const n = Math.max(1, out.tokens[i]!);
        const h = v.length / n;
        return Array.from({ length: n }, (_, k) => v.subarray(k * h, (k + 1) * h));
      };
      const full = perToken ? (out.vectors[0]?.length ?? 0) / Math.max(1, out.tokens[0] ?? 1) : (out.vectors[0]?.length ?? 0);
      if (args.dimensions !== undefined && args.dimensions > full) {
        throw new ServerError('invalid_input', `dimensions (${args.dimensions}) exceeds the model's ${full} dimensions`);
      }
      const cut = (v: Float32Array) => (args.dimensions ? truncate(v, args.dimensions, args.normalize) : v);
      if (perToken) {
        const embeddings = out.vectors.map((v, i) => rowsOf(v, i).map((row) => toJsonFloats(cut(row))));
        return { model: args.model, dims: args.dimensions ?? full, encoding: args.encoding, embeddings, usage };
      }
      const vectors = out.vectors.map(cut);
      return {
        model: args.model,
        dims: vectors[0]?.length ?? 0,
        encoding: args.encoding,
        embeddings: vectors.map((v) => (args.encoding === 'base64' ? toBase64(v) : toJsonFloats(v))),
        usage,
      };
    },
  });
}
