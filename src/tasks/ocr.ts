/**
 * @module tasks/ocr
 * `ocr`: reads the text in an image with PaddleOCR (detection, orientation, recognition).
 * Returns lines in reading order with their confidence and box, and the full text.
 */
import { z } from 'zod';
import type { TaskDeps } from './deps.js';
import { INFER_SCOPE } from './scopes.js';
import { READ_ONLY, modelField, modelsFor, skillFor } from './common.js';
import { defineTask, type AnyTask } from './task.js';
import { withImage, imageFields, inlineMedia } from './media.js';
import { DET_DEFAULTS, OCR_UNCLIP_RATIO } from '../backends/onnx/tasks.js';

export function ocrTask(deps: TaskDeps): AnyTask | undefined {
  const models = modelsFor(deps.registry, ['ocr']);
  if (models.length === 0) return undefined;
  return defineTask({
    name: 'ocr',
    title: 'Read text in an image',
    description:
      'Read the text in an image (screenshots, scans, photos). Returns the text and its lines with confidence and box, in reading order.',
    inputSchema: {
      ...imageFields,
      orientation: z.boolean().default(true).describe('Detect upside-down lines and turn them before reading.'),
      box_threshold: z
        .number()
        .min(0)
        .max(1)
        .default(DET_DEFAULTS.boxThreshold)
        .describe('Minimum mean text probability of a detected line.'),
      unclip_ratio: z.number().min(0.5).max(4).default(OCR_UNCLIP_RATIO).describe('How far line boxes are grown before reading.'),
      min_confidence: z.number().min(0).max(1).default(0.5).describe('Drop lines read with a lower mean character confidence.'),
      model: modelField(models, 'OCR model.'),
    },
    outputSchema: {
      model: z.string(),
      width: z.number(),
      height: z.number(),
      text: z.string(),
      lines: z.array(
        z.object({
          text: z.string(),
          confidence: z.number(),
          box: z.object({ xmin: z.number(), ymin: z.number(), xmax: z.number(), ymax: z.number() }),
          polygon: z.array(z.array(z.number()).length(2)),
          rotated: z.boolean(),
        }),
      ),
    },
    annotations: { title: 'Read text in an image', ...READ_ONLY },
    scope: INFER_SCOPE,
    prepare: (args) => {
      skillFor(deps.registry, args.model, ['ocr']);
      return args;
    },
    cacheable: (args) => inlineMedia(args.image, args.image_base64),
    handler: (args, ctx) =>
      withImage(args, deps, ctx, async (image) => {
        const out = await deps.executor.run(
          args.model,
          {
            task: 'ocr',
            image,
            boxThreshold: args.box_threshold,
            unclipRatio: args.unclip_ratio,
            orientation: args.orientation,
            minConfidence: args.min_confidence,
          },
          ctx.run,
        );
        return {
          model: args.model,
          width: image.width,
          height: image.height,
          text: out.lines.map((l) => l.text).join('\n'),
          lines: out.lines.map((l) => ({ text: l.text, confidence: l.confidence, box: l.box, polygon: l.quad, rotated: l.rotated })),
        };
      }),
  });
}
