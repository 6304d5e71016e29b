/**
 * @module mcp/tools/classify
 * `classify`: text classification (sentiment and other label sets from the model's id2label),
 * for one text or many, with the top K labels per text.
 */
import { z } from 'zod';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { ServerError } from '../../errors.js';
import type { ServerDeps } from '../deps.js';
import { guarded, ok } from '../results.js';
import { INFER_SCOPE, requireScope } from '../scopes.js';
import { READ_ONLY, UsageSchema, checkTexts, loadProgress, modelField, modelsFor, skillFor, priorityOf, cached, withDeadline } from './common.js';

export function registerClassifyTool(server: McpServer, deps: ServerDeps): void {
  const models = modelsFor(deps.registry, ['text-classification']);
  if (models.length === 0) return;
  const LabelScore = z.object({ label: z.string().describe('Label name.'), score: z.number().describe('Probability, 0..1.') });
  server.registerTool(
    'classify',
    {
      title: 'Classify text',
      description: 'Classify text with a classification model (e.g. sentiment). Returns the top labels with probabilities.',
      inputSchema: {
        text: z.string().optional().describe('One text to classify.'),
        texts: z.array(z.string()).min(1).optional().describe('Several texts to classify (instead of `text`).'),
        top_k: z.number().int().min(1).max(1000).default(1).describe('Labels to return per text, best first. Default 1.'),
        model: modelField(models, 'Classification model.'),
      },
      outputSchema: {
        model: z.string().describe('Model used.'),
        results: z.array(z.object({ labels: z.array(LabelScore).describe('Best first.') })).describe('One entry per input text, in order.'),
        usage: UsageSchema,
      },
      annotations: { title: 'Classify text', ...READ_ONLY },
    },
    guarded(deps.logger, 'classify', async (args, extra) => {
      requireScope(extra.authInfo, INFER_SCOPE);
      skillFor(deps.registry, args.model, ['text-classification']);
      if ((args.text === undefined) === (args.texts === undefined)) throw new ServerError('invalid_input', 'give exactly one of `text` or `texts`');
      const texts = args.texts ?? [args.text!];
      checkTexts(texts, args.texts ? 'texts' : 'text', deps.config.limits);
      return ok(
        await cached(deps, extra, 'classify', args, true, async () => {
          const out = await withDeadline(deps.config, extra, (signal) =>
            deps.executor.run(
            args.model,
            { task: 'text-classification', texts, topK: args.top_k },
            { signal, priority: priorityOf(extra), onLoadProgress: loadProgress(server, extra) },
            ),
          );
          const tokens = out.tokens.reduce((a, b) => a + b, 0);
          return { model: args.model, results: out.labels.map((labels) => ({ labels })), usage: { prompt_tokens: tokens, total_tokens: tokens } };
        }),
      );
    }),
  );
}
