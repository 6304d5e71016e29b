/**
 * @module tasks/classify
 * `classify`: text classification (sentiment and other label sets from the model's id2label),
 * for one text or many, zero-shot for text with candidate labels (NLI models: each label becomes a
 * hypothesis read with the text, scored as transformers.js's zero-shot pipeline scores it), and
 * image classification: a fixed label set (ViT-style models) or zero-shot (CLIP-style models).
 */
import { z } from 'zod';
import { ServerError } from '../errors.js';
import type { TaskDeps } from './deps.js';
import { INFER_SCOPE } from './scopes.js';
import { READ_ONLY, UsageSchema, checkTexts, modelField, modelsFor, skillFor } from './common.js';
import type { RunOptions } from '../runtime/executor.js';
import { softmax } from '../vectors.js';
import { defineTask, type AnyTask } from './task.js';
import { withImage, imageFields, inlineMedia } from './media.js';

/** Candidate labels per zero-shot call, at most. */
const MAX_LABELS = 100;

export function classifyTask(deps: TaskDeps): AnyTask | undefined {
  const textModels = modelsFor(deps.registry, ['text-classification']);
  const imageModels = modelsFor(deps.registry, ['image-classification']);
  const zeroShotModels = modelsFor(deps.registry, ['zero-shot-image-classification']);
  const nliModels = modelsFor(deps.registry, ['zero-shot-classification']);
  const models = [...new Set([...textModels, ...nliModels, ...imageModels, ...zeroShotModels])];
  if (models.length === 0) return undefined;
  const defaults = [
    textModels[0] && `${textModels[0]} (text)`,
    imageModels[0] && `${imageModels[0]} (image)`,
    nliModels[0] && `${nliModels[0]} (text, candidate_labels)`,
    zeroShotModels[0] && `${zeroShotModels[0]} (image, candidate_labels)`,
  ].filter(Boolean);
  const LabelScore = z.object({ label: z.string().describe('Label name.'), score: z.number().describe('Probability, 0..1.') });
  return defineTask({
    name: 'classify',
    title: 'Classify text or images',
    description:
      'Classify text (e.g. sentiment) or an image, or zero-shot against your candidate_labels. Returns the top labels with probabilities.',
    inputSchema: {
      text: z.string().optional().describe('One text.'),
      texts: z.array(z.string()).min(1).optional().describe('Several texts (instead of `text`).'),
      text_pairs: z.array(z.string()).min(1).optional().describe('A second text per text, read as a pair (NLI).'),
      ...imageFields,
      candidate_labels: z
        .array(z.string().min(1).max(200))
        .min(1)
        .max(MAX_LABELS)
        .optional()
        .describe('Zero-shot: labels to choose from (text or image).'),
      hypothesis_template: z.string().optional().describe('Zero-shot prompt; {} is the label.'),
      multi_label: z.boolean().default(false).describe('Text zero-shot: score labels independently.'),
      top_k: z.number().int().min(1).max(1000).default(1).describe('Labels to return per input, best first (zero-shot: all unless set).'),
      model: modelField(models, `Default: ${defaults.join(', ')}.`, false).optional(),
    },
    outputSchema: {
      model: z.string(),
      results: z.array(z.object({ labels: z.array(LabelScore) })),
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
      const zeroShot = args.candidate_labels !== undefined;
      const model = args.model ?? (zeroShot ? nliModels : textModels)[0];
      if (!model)
        throw new ServerError(
          'unsupported_task',
          zeroShot ? 'no zero-shot-classification (NLI) model is installed' : 'no text-classification model is installed',
        );
      skillFor(deps.registry, model, [zeroShot ? 'zero-shot-classification' : 'text-classification']);
      if (zeroShot && args.text_pairs) throw new ServerError('invalid_input', 'text_pairs and candidate_labels do not go together');
      // Each text is read once per label: the pairs are what the model runs.
      const n = (args.texts?.length ?? 1) * (args.candidate_labels?.length ?? 1);
      if (n > deps.config.limits.maxTexts)
        throw new ServerError(
          'input_too_large',
          `texts x candidate_labels is ${n} pairs; the limit is ${deps.config.limits.maxTexts} per call`,
        );
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
                  hypothesisTemplate: args.hypothesis_template ?? 'This is a photo of {}.',
                },
                run,
              )
            : await deps.executor.run(model, { task: 'image-classification', image, topK: args.top_k }, run);
          return { model, results: [{ labels: zeroShot && args.top_k === 1 ? out.labels : out.labels.slice(0, args.top_k) }] };
        });
      }
      if (args.candidate_labels) return zeroShotText(deps, model, args.texts ?? [args.text!], args, run);
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

/**
 * Zero-shot text classification through NLI, as transformers.js's pipeline does it: each label
 * becomes a hypothesis read with the text; one distribution over the labels' entailment logits,
 * or with `multi_label` (or a single label) entailment against contradiction per label.
 */
async function zeroShotText(
  deps: TaskDeps,
  model: string,
  texts: string[],
  args: { candidate_labels?: string[] | undefined; hypothesis_template?: string | undefined; multi_label: boolean; top_k: number },
  run: RunOptions,
) {
  const labels = args.candidate_labels!;
  const hypotheses = labels.map((l) => (args.hypothesis_template ?? 'This example is {}.').replace('{}', l));
  const out = await deps.executor.run(
    model,
    { task: 'zero-shot-classification', texts: texts.flatMap((t) => hypotheses.map(() => t)), pairs: texts.flatMap(() => hypotheses) },
    run,
  );
  const each = args.multi_label || labels.length === 1;
  const results = texts.map((_, t) => {
    const rows = out.logits.slice(t * labels.length, (t + 1) * labels.length);
    const scores = each ? rows.map((r) => softmax(r)[1]!) : softmax(rows.map((r) => r[1]));
    const ranked = labels.map((label, i) => ({ label, score: scores[i]! })).sort((a, b) => b.score - a.score);
    // Like images: every candidate by default, fewer when top_k asks.
    return { labels: args.top_k === 1 ? ranked : ranked.slice(0, args.top_k) };
  });
  const tokens = out.tokens.reduce((a, b) => a + b, 0);
  return { model, results, usage: { prompt_tokens: tokens, total_tokens: tokens } };
}
