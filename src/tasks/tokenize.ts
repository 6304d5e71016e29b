/**
 * @module tasks/tokenize
 * `tokenize`: a text model's tokens for texts (ids, token text, special flag, character span),
 * to count tokens against a model's context or to embed by token ids.
 */
import { z } from 'zod';
import { ServerError } from '../errors.js';
import type { TaskDeps } from './deps.js';
import { INFER_SCOPE } from './scopes.js';
import { READ_ONLY, checkTexts, modelField, modelsFor, skillFor } from './common.js';
import { defineTask, type AnyTask } from './task.js';

const TEXT_TASKS = ['feature-extraction', 'text-classification', 'text-generation', 'text2text-generation'] as const;

export function tokenizeTask(deps: TaskDeps): AnyTask | undefined {
  const models = modelsFor(deps.registry, TEXT_TASKS);
  if (models.length === 0) return undefined;
  return defineTask({
    name: 'tokenize',
    title: 'Tokenize texts',
    description:
      "Split texts into a model's tokens: ids, token text and character spans. Use it to count tokens against a model's context.",
    inputSchema: {
      text: z.string().optional().describe('One text.'),
      texts: z.array(z.string()).min(1).optional().describe('Several texts (instead of `text`).'),
      add_special_tokens: z
        .boolean()
        .default(true)
        .describe('Include the special tokens the model adds (e.g. [CLS], [SEP]). Default true.'),
      model: modelField(models, 'Model whose tokenizer to use.'),
    },
    outputSchema: {
      model: z.string().describe('Model used.'),
      tokens: z
        .array(
          z.array(
            z.object({
              id: z.number().int(),
              text: z.string().describe('The token as it appears in the input (or the special token).'),
              special: z.boolean(),
              start: z.number().int().nullable().describe('Offset of the token in the input; null for special or unaligned tokens.'),
              stop: z.number().int().nullable(),
            }),
          ),
        )
        .describe('The tokens of each text, in order.'),
      counts: z.array(z.number().int()).describe('Tokens per text.'),
    },
    annotations: { title: 'Tokenize texts', ...READ_ONLY },
    scope: INFER_SCOPE,
    prepare: (args) => {
      skillFor(deps.registry, args.model, TEXT_TASKS);
      if ((args.text === undefined) === (args.texts === undefined))
        throw new ServerError('invalid_input', 'give exactly one of `text` or `texts`');
      checkTexts(args.texts ?? [args.text!], args.texts ? 'texts' : 'text', deps.config.limits);
      return args;
    },
    cacheable: () => true,
    handler: async (args, ctx) => {
      const out = await deps.executor.run(
        args.model,
        { task: 'tokenize', texts: args.texts ?? [args.text!], addSpecialTokens: args.add_special_tokens },
        ctx.run,
      );
      return { model: args.model, tokens: out.tokens, counts: out.tokens.map((t) => t.length) };
    },
  });
}
