/**
 * @module tasks/tokenize
 * `tokenize`: a text model's tokens for texts (ids, token text, special flag, character span),
 * to count tokens against a model's context or to embed by token ids.
 */
import { z } from 'zod';
import { ServerError } from '../errors.js';
import type { TaskDeps } from './deps.js';
import { INFER_SCOPE } from './scopes.js';
import { READ_ONLY, checkTexts, modelField, modelsFor, skillFor, MAX_TOKEN_ID, nullableNumber } from './common.js';
import { defineTask, type AnyTask } from './task.js';

const TEXT_TASKS = ['feature-extraction', 'text-classification', 'text-generation', 'text2text-generation'] as const;

export function tokenizeTask(deps: TaskDeps): AnyTask | undefined {
  const models = modelsFor(deps.registry, TEXT_TASKS);
  if (models.length === 0) return undefined;
  return defineTask({
    name: 'tokenize',
    title: 'Tokenize texts',
    description:
      "Split texts into a model's tokens (ids, text, character spans), e.g. to count them against its context; or decode `ids` back into text.",
    inputSchema: {
      text: z.string().optional().describe('One text.'),
      texts: z.array(z.string()).min(1).optional().describe('Several texts (instead of `text`).'),
      ids: z
        .array(z.array(z.number().int().min(0).max(MAX_TOKEN_ID)))
        .min(1)
        .optional()
        .describe('Instead of text: token id lists to decode.'),
      skip_special_tokens: z.boolean().default(true).describe('Decoding: leave out special tokens.'),
      add_special_tokens: z.boolean().default(true).describe("Add the model's special tokens ([CLS], [SEP]...)."),
      model: modelField(models, 'Model whose tokenizer to use.'),
    },
    outputSchema: {
      model: z.string(),
      tokens: z.array(
        z.array(
          z.object({
            id: z.number(),
            text: z.string(),
            special: z.boolean(),
            start: nullableNumber('Character offset in the input; null for special or unaligned tokens.'),
            stop: nullableNumber('End offset.'),
          }),
        ),
      ),
      counts: z.array(z.number()),
      texts: z.array(z.string()).optional(),
    },
    annotations: { title: 'Tokenize texts', ...READ_ONLY },
    scope: INFER_SCOPE,
    prepare: (args) => {
      skillFor(deps.registry, args.model, TEXT_TASKS);
      const given = [args.text, args.texts, args.ids].filter((x) => x !== undefined).length;
      if (given !== 1) throw new ServerError('invalid_input', 'give exactly one of `text`, `texts` or `ids`');
      if (args.ids) {
        const lim = deps.config.limits;
        if (args.ids.length > lim.maxTexts)
          throw new ServerError('input_too_large', `ids has ${args.ids.length} items; the limit is ${lim.maxTexts} per call`);
        const long = args.ids.findIndex((l) => l.length > lim.maxTextChars);
        if (long >= 0) throw new ServerError('input_too_large', `ids[${long}] has more than ${lim.maxTextChars} ids`);
      } else checkTexts(args.texts ?? [args.text!], args.texts ? 'texts' : 'text', deps.config.limits);
      return args;
    },
    cacheable: () => true,
    handler: async (args, ctx) => {
      if (args.ids) {
        const out = await deps.executor.run(
          args.model,
          { task: 'tokenize', texts: [], addSpecialTokens: false, decode: { ids: args.ids, skipSpecialTokens: args.skip_special_tokens } },
          ctx.run,
        );
        return { model: args.model, tokens: [], counts: args.ids.map((l) => l.length), texts: out.texts ?? [] };
      }
      const out = await deps.executor.run(
        args.model,
        { task: 'tokenize', texts: args.texts ?? [args.text!], addSpecialTokens: args.add_special_tokens },
        ctx.run,
      );
      return { model: args.model, tokens: out.tokens, counts: out.tokens.map((t) => t.length) };
    },
  });
}
