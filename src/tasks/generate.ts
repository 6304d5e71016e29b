/**
 * @module tasks/generate
 * `generate`: text generation from a prompt or chat messages (rendered with the model's chat
 * template), greedy by default, seeded sampling on request, stop strings, and streaming of each
 * new piece of text to the caller's stream (MCP progress notifications, REST server-sent events).
 */
import { z } from 'zod';
import { ServerError } from '../errors.js';
import type { TaskDeps } from './deps.js';
import { INFER_SCOPE } from './scopes.js';
import { checkTexts, modelField, modelsFor, skillFor } from './common.js';
import { defineTask, type AnyTask } from './task.js';

export function generateTask(deps: TaskDeps): AnyTask | undefined {
  const models = modelsFor(deps.registry, ['text-generation', 'text2text-generation']);
  if (models.length === 0) return undefined;
  const lim = deps.config.limits;
  return defineTask({
    name: 'generate',
    title: 'Generate text',
    description: 'Generate text with a local language model from a prompt or chat messages; greedy (deterministic) unless do_sample.',
    inputSchema: {
      prompt: z.string().optional().describe('Prompt to continue (or an instruction, for text-to-text models).'),
      messages: z
        .array(
          z.object({
            role: z.enum(['system', 'user', 'assistant']),
            content: z.string(),
          }),
        )
        .min(1)
        .optional()
        .describe('Chat messages (instead of `prompt`), for models with a chat template.'),
      model: modelField(models, 'Generation model.'),
      max_new_tokens: z
        .number()
        .int()
        .min(1)
        .max(lim.maxNewTokens)
        .optional()
        .describe("Tokens to generate at most (default: the model's, often 256)."),
      do_sample: z.boolean().default(false).describe('Sample instead of greedy decoding.'),
      temperature: z.number().min(0).max(5).default(1).describe('Sampling temperature (with do_sample).'),
      top_k: z.number().int().min(0).max(1_000_000).default(0).describe('Sample from the K most likely tokens; 0 = no limit.'),
      top_p: z.number().gt(0).max(1).default(1).describe('Nucleus sampling probability mass.'),
      seed: z.number().int().min(0).max(4294967295).optional().describe('Sampling seed, for repeatable samples.'),
      stop: z.array(z.string().min(1)).max(16).default([]).describe('Stop at any of these strings (left out of the text).'),
      max_time: z.number().gt(0).max(600).optional().describe('Seconds after which to stop and return the text so far.'),
      return_token_ids: z.boolean().default(false).describe('Also return the generated token ids.'),
    },
    outputSchema: {
      model: z.string(),
      text: z.string(),
      finish_reason: z.enum(['stop', 'length', 'stop_sequence', 'max_time', 'cancelled']),
      usage: z.object({ prompt_tokens: z.number(), completion_tokens: z.number(), total_tokens: z.number() }),
      token_ids: z.array(z.number()).optional(),
    },
    annotations: { title: 'Generate text', readOnlyHint: true, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    scope: INFER_SCOPE,
    prepare: (args) => {
      if ((args.prompt === undefined) === (args.messages === undefined))
        throw new ServerError('invalid_input', 'give exactly one of `prompt` or `messages`');
      if (args.prompt !== undefined) checkTexts([args.prompt], 'prompt', lim);
      if (args.messages) {
        if (args.messages.length > lim.maxMessages)
          throw new ServerError('input_too_large', `messages has ${args.messages.length} items; the limit is ${lim.maxMessages}`);
        const total = args.messages.reduce((a, m) => a + m.content.length, 0);
        if (total > lim.maxTextChars)
          throw new ServerError('input_too_large', `messages total ${total} characters; the limit is ${lim.maxTextChars}`);
      }
      skillFor(deps.registry, args.model, ['text-generation', 'text2text-generation']);
      return args;
    },
    cacheable: (args) => !args.do_sample || args.seed !== undefined,
    handler: async (args, ctx) => {
      const skill = skillFor(deps.registry, args.model, ['text-generation', 'text2text-generation']);
      const send = ctx.stream;
      const out = await deps.executor.run(
        args.model,
        {
          task: skill.tasks.includes('text-generation') ? 'text-generation' : 'text2text-generation',
          prompt: args.prompt,
          messages: args.messages,
          params: {
            maxNewTokens: args.max_new_tokens ?? skill.generation?.max_new_tokens ?? 256,
            doSample: args.do_sample,
            temperature: args.temperature,
            topK: args.top_k,
            topP: args.top_p,
            seed: args.seed,
            stop: args.stop,
            maxTimeMs: args.max_time !== undefined ? args.max_time * 1000 : undefined,
          },
          onText: send ? (piece: string) => piece && send(piece) : undefined,
          signal: ctx.signal,
        },
        ctx.run,
      );
      return {
        model: args.model,
        text: out.text,
        finish_reason: out.finishReason,
        usage: {
          prompt_tokens: out.promptTokens,
          completion_tokens: out.tokenIds.length,
          total_tokens: out.promptTokens + out.tokenIds.length,
        },
        ...(args.return_token_ids ? { token_ids: out.tokenIds } : {}),
      };
    },
  });
}
