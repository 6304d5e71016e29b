/**
 * @module tasks/caption
 * `caption`: describes an image in a sentence with a vision encoder-decoder (the
 * vit-gpt2-image-captioning family), greedy, streaming each new piece of text to the caller as
 * `generate` does (MCP progress notifications, REST server-sent events).
 */
import { z } from 'zod';
import type { TaskDeps } from './deps.js';
import { INFER_SCOPE } from './scopes.js';
import { READ_ONLY, modelField, modelsFor, skillFor } from './common.js';
import { defineTask, type AnyTask } from './task.js';
import { withImage, imageFields, inlineMedia } from './media.js';

/** Captions are a sentence; past this a model is rambling. */
const MAX_CAPTION_TOKENS = 128;

export function captionTask(deps: TaskDeps): AnyTask | undefined {
  const models = modelsFor(deps.registry, ['image-to-text']);
  if (models.length === 0) return undefined;
  return defineTask({
    name: 'caption',
    title: 'Caption an image',
    description: 'Describe an image in one sentence. `ocr` reads text in it, `detect` locates objects.',
    inputSchema: {
      ...imageFields,
      max_new_tokens: z.number().int().min(1).max(MAX_CAPTION_TOKENS).default(32).describe('Tokens to generate at most.'),
      model: modelField(models, 'Captioning model.'),
    },
    outputSchema: {
      model: z.string(),
      text: z.string(),
      width: z.number(),
      height: z.number(),
      usage: z.object({ completion_tokens: z.number() }),
    },
    annotations: { title: 'Caption an image', ...READ_ONLY },
    scope: INFER_SCOPE,
    prepare: (args) => {
      skillFor(deps.registry, args.model, ['image-to-text']);
      return args;
    },
    cacheable: (args) => inlineMedia(args.image, args.image_base64),
    handler: (args, ctx) =>
      withImage(args, deps, ctx, async (image) => {
        const send = ctx.stream;
        const out = await deps.executor.run(
          args.model,
          {
            task: 'image-to-text',
            image,
            maxNewTokens: args.max_new_tokens,
            onText: send ? (piece: string) => piece && send(piece) : undefined,
            signal: ctx.signal,
          },
          ctx.run,
        );
        return { model: args.model, text: out.text, width: image.width, height: image.height, usage: { completion_tokens: out.tokens } };
      }),
  });
}
