/**
 * @module tasks/detect
 * `detect`: finds things in an image. Objects (DETR-family models: labels, scores, pixel boxes)
 * or text regions (PaddleOCR's DB detector: one box per line, with the rotated quadrilateral).
 */
import { z } from 'zod';
import type { TaskDeps } from './deps.js';
import { INFER_SCOPE } from './scopes.js';
import { READ_ONLY, modelField, modelsFor, skillFor } from './common.js';
import { defineTask, type AnyTask } from './task.js';
import { withImage, imageFields, inlineMedia } from './media.js';
import { DET_DEFAULTS } from '../backends/onnx/tasks.js';
import { ServerError } from '../errors.js';

export function detectTask(deps: TaskDeps): AnyTask | undefined {
  const objectModels = modelsFor(deps.registry, ['object-detection']);
  const textModels = modelsFor(deps.registry, ['text-detection']);
  const models = [...objectModels, ...textModels.filter((m) => !objectModels.includes(m))];
  if (models.length === 0) return undefined;
  const Box = z
    .object({ xmin: z.number(), ymin: z.number(), xmax: z.number(), ymax: z.number() })
    .describe('Axis-aligned box in pixels of the original image.');
  return defineTask({
    name: 'detect',
    title: 'Detect objects or text',
    description: 'Find objects (label, score, box) or text lines (box and rotated outline) in an image; `ocr` also reads the text.',
    inputSchema: {
      ...imageFields,
      mode: z
        .enum(['objects', 'text'])
        .optional()
        .describe(`Objects or text lines; default: the model's task, else ${objectModels.length ? 'objects' : 'text'}.`),
      threshold: z.number().min(0).max(1).optional().describe('Minimum score (default 0.5; text mode: pixel probability, default 0.3).'),
      box_threshold: z.number().min(0).max(1).default(DET_DEFAULTS.boxThreshold).describe('Text mode: minimum mean probability in a box.'),
      unclip_ratio: z.number().min(0.5).max(4).default(DET_DEFAULTS.unclipRatio).describe('Text mode: how far boxes are grown.'),
      model: modelField(models, 'Detection model (object or text detection).', false).optional(),
    },
    outputSchema: {
      model: z.string(),
      mode: z.enum(['objects', 'text']),
      width: z.number(),
      height: z.number(),
      detections: z.array(
        z.object({
          label: z.string(),
          score: z.number(),
          box: Box,
          polygon: z.array(z.array(z.number()).length(2)).optional(),
        }),
      ),
    },
    annotations: { title: 'Detect objects or text', ...READ_ONLY },
    scope: INFER_SCOPE,
    prepare: (args) => {
      let mode = args.mode;
      let model = args.model;
      if (model) {
        const skill = skillFor(
          deps.registry,
          model,
          mode === 'text' ? ['text-detection'] : mode === 'objects' ? ['object-detection'] : ['object-detection', 'text-detection'],
        );
        mode ??= skill.tasks.includes('object-detection') ? 'objects' : 'text';
      } else {
        mode ??= objectModels.length ? 'objects' : 'text';
        model = (mode === 'objects' ? objectModels : textModels)[0];
        if (!model) throw new ServerError('unsupported_task', `no ${mode === 'objects' ? 'object' : 'text'} detection model is installed`);
      }
      return { ...args, model: model!, mode };
    },
    cacheable: (args) => inlineMedia(args.image, args.image_base64),
    handler: (args, ctx) =>
      withImage(args, deps, ctx, async (image) => {
        const { model, mode } = args;
        const run = ctx.run;
        const head = { model, mode, width: image.width, height: image.height };
        if (mode === 'objects') {
          const out = await deps.executor.run(model, { task: 'object-detection', image, threshold: args.threshold ?? 0.5 }, run);
          return { ...head, detections: out.objects };
        }
        const out = await deps.executor.run(
          model,
          {
            task: 'text-detection',
            image,
            threshold: args.threshold ?? DET_DEFAULTS.threshold,
            boxThreshold: args.box_threshold,
            unclipRatio: args.unclip_ratio,
          },
          run,
        );
        return { ...head, detections: out.boxes.map((b) => ({ label: 'text', score: b.score, box: b.box, polygon: b.quad })) };
      }),
  });
}
