/**
 * @module tasks/classify
 * `classify`: text classification (sentiment and other label sets from the model's id2label),
 * for one text or many, and image classification: a fixed label set (ViT-style models) or
 * zero-shot with candidate labels (CLIP-style models).
 */
import { z } from 'zod';
import { ServerError } from '../errors.js';
import type { TaskDeps } from './deps.js';
import { INFER_SCOPE } from './scopes.js';
import { READ_ONLY, UsageSchema, checkTexts, modelField, modelsFor, skillFor } from './common.js';
import { defineTask, type AnyTask } from './task.js';
import { withImage, imageFields, inlineMedia } from './media.js';

/** Candidate labels per zero-shot call, at most. */
const MAX_LABELS = 100;

export function classifyTask(deps: TaskDeps): AnyTask | undefined {
  const textModels = modelsFor(deps.registry, ['text-classification']);
  const imageModels = modelsFor(deps.registry, ['image-classification']);
  const zeroShotModels = modelsFor(deps.registry, ['zero-shot-image-classification']);
  const models = [...new Set([...textModels, ...imageModels, ...zeroShotModels])];
  if (models.length === 0) return undefined;
  const defaults = [
    textModels[0] && `${textModels[0]} for text`,
    imageModels[0] && `${imageModels[0]} for images`,
    zeroShotModels[0] && `${zeroShotModels[0]} for images with candidate_labels`,
  ].filter(Boolean);
  const LabelScore = z.object({ label: z.string().describe('Label name.'), score: z.number().describe('Probability, 0..1.') });
  return defineTask({
    name: 'classify',
    title: 'Classify text or images',
    description:
      'Classify text (e.g. sentiment) or an image (a fixed label set, or zero-shot against your candidate_labels). Returns the top labels with probabilities.',
    inputSchema: {
      text: z.string().optional().describe('One text to classify.'),
      texts: z.array(z.string()).min(1).optional().describe('Several texts to classify (instead of `text`).'),
      text_pairs: z
        .array(z.string())
        .min(1)
        .optional()
        .describe('A second text for each text, read with it as a pair (NLI, cross-encoders).'),
      ...imageFields,
      candidate_labels: z
        .array(z.string().min(1).max(200))
        .min(1)
        .max(MAX_LABELS)
        .optional()
        .describe('Image only: labels to choose from (zero-shot, CLIP-style models), e.g. ["a receipt", "a cat"].'),
      hypothesis_template: z
        .string()
        .default('This is a photo of {}.')
        .describe('Zero-shot prompt; {} is replaced by each label. Default "This is a photo of {}.".'),
      top_k: z
        .number()
        .int()
        .min(1)
        .max(1000)
        .default(1)
        .describe('Labels to return per input, best first. Default 1 (zero-shot: all candidates).'),
      model: modelField(models, `Classification model. Default: ${defaults.join('; ')}.`, false).optional(),
    },
    outputSchema: {
      model: z.string().describe('Model used.'),
      results: z
        .array(z.object({ labels: z.array(LabelScore).describe('Best first.') }))
        .describe('One entry per input text (or one for the image), in order.'),
      usage: UsageSchema.optional(),
    },
    annotations: { title: 'Classify text or images', ...READ_ONLY },
    scope: INFER_SCOPE,
    prepare: (args) => {
      const hasText = args.text !== undefined || args.texts !== undefined;
      const hasImage = args.image !== undefined || args.image_base64 !== undefined;
      if (hasImage && args.text_pairs) throw new ServerError('invalid_input', 'text_pairs go with text, not with an image');
      if (hasText === hasImage)
        throw new ServerError('invalid_input', 'give text (`text` or `texts`) or an image (`image` or `image_base64`), not both');
      if (hasImage) {
        const zeroShot = args.candidate_labels !== undefined;
        const task = zeroShot ? 'zero-shot-image-classification' : 'image-classification';
        const model = args.model ?? (zeroShot ? zeroShotModels : imageModels)[0];
        if (!model)
          throw new ServerError(
            'unsupported_task',
            `no ${task} model is installed${zeroShot ? '' : '; pass candidate_labels for zero-shot classification'}`,
          );
        skillFor(deps.registry, model, [task]);
        return { ...args, model };
      }
      const model = args.model ?? textModels[0];
      if (!model) throw new ServerError('unsupported_task', 'no text-classification model is installed');
      skillFor(deps.registry, model, ['text-classification']);
      if ((args.text === undefined) === (args.texts === undefined))
        throw new ServerError('invalid_input', 'give exactly one of `text` or `texts`');
      const texts = args.texts ?? [args.text!];
      checkTexts(texts, args.texts ? 'texts' : 'text', deps.config.limits);
      if (args.text_pairs) {
        if (args.text_pairs.length !== texts.length)
          throw new ServerError(
            'invalid_input',
            `text_pairs has ${args.text_pairs.length} items for ${texts.length} texts; give one per text`,
            {
              details: { field: 'text_pairs' },
            },
          );
        checkTexts(args.text_pairs, 'text_pairs', deps.config.limits);
      }
      return { ...args, model };
    },
    cacheable: (args) => (args.image !== undefined || args.image_base64 !== undefined ? inlineMedia(args.image, args.image_base64) : true),
    handler: async (args, ctx) => {
      const { model } = args;
      const run = ctx.run;
      if (args.image !== undefined || args.image_base64 !== undefined) {
        const zeroShot = args.candidate_labels !== undefined;
        return withImage(args, deps, ctx, async (image) => {
          const out = zeroShot
            ? await deps.executor.run(
                model,
                {
                  task: 'zero-shot-image-classification',
                  image,
                  labels: args.candidate_labels!,
                  hypothesisTemplate: args.hypothesis_template,
                },
                run,
              )
            : await deps.executor.run(model, { task: 'image-classification', image, topK: args.top_k }, run);
          return { model, results: [{ labels: zeroShot && args.top_k === 1 ? out.labels : out.labels.slice(0, args.top_k) }] };
        });
      }
      const out = await deps.executor.run(
        model,
        { task: 'text-classification', texts: args.texts ?? [args.text!], pairs: args.text_pairs, topK: args.top_k },
        run,
      );
      const tokens = out.tokens.reduce((a, b) => a + b, 0);
      return { model, results: out.labels.map((labels) => ({ labels })), usage: { prompt_tokens: tokens, total_tokens: tokens } };
    },
  });
}
