/**
 * @module tasks/similarity
 * `similarity`: ranks documents against a query (or scores text pairs) by cosine similarity of
 * their embeddings, returning scores sorted by rank instead of vectors that flood an agent's
 * context.
 */
import { z } from 'zod';
import { ServerError } from '../errors.js';
import { cosine } from '../vectors.js';
import type { TaskDeps } from './deps.js';
import { INFER_SCOPE } from './scopes.js';
import { READ_ONLY, UsageSchema, checkTexts, modelField, modelsFor, rankedResult, skillFor } from './common.js';
import { defineTask, type AnyTask } from './task.js';

export function similarityTask(deps: TaskDeps): AnyTask | undefined {
  const models = modelsFor(deps.registry, ['feature-extraction']);
  if (models.length === 0) return undefined;
  return defineTask({
    name: 'similarity',
    title: 'Rank by similarity',
    description: 'Rank documents by semantic similarity to a query (or score text pairs). Returns cosine scores, best first.',
    inputSchema: {
      query: z.string().min(1).optional().describe('Query text; use with `documents`.'),
      documents: z.array(z.string()).min(1).optional().describe('Documents to rank against `query`.'),
      pairs: z
        .array(z.tuple([z.string(), z.string()]))
        .min(1)
        .optional()
        .describe('Instead of query/documents: [a, b] pairs to score.'),
      top_k: z.number().int().min(1).max(1_000_000).optional().describe('Return only the best K (default all).'),
      return_documents: z.boolean().default(true).describe('Include each document text.'),
      model: modelField(models, 'Embedding model.'),
    },
    outputSchema: {
      model: z.string(),
      results: z.array(
        z.object({
          index: z.number(),
          score: z.number(),
          document: z.string().optional(),
          pair: z.array(z.string()).length(2).optional(),
        }),
      ),
      usage: UsageSchema,
    },
    annotations: { title: 'Rank by similarity', ...READ_ONLY },
    scope: INFER_SCOPE,
    prepare: (args) => {
      skillFor(deps.registry, args.model, ['feature-extraction']);
      const usePairs = args.pairs !== undefined;
      if (usePairs === (args.query !== undefined || args.documents !== undefined)) {
        throw new ServerError('invalid_input', 'give either `query` with `documents`, or `pairs`');
      }
      if (!usePairs && (args.query === undefined || args.documents === undefined)) {
        throw new ServerError('invalid_input', '`query` and `documents` go together');
      }
      checkTexts(textsOf(args), usePairs ? 'pairs' : 'documents', { ...deps.config.limits, maxTexts: deps.config.limits.maxTexts + 1 });
      return args;
    },
    cacheable: () => true,
    handler: async (args, ctx) => {
      const usePairs = args.pairs !== undefined;
      const out = await deps.executor.run(
        args.model,
        { task: 'feature-extraction', texts: textsOf(args), pooling: 'mean', normalize: true },
        ctx.run,
      );
      const v = out.vectors;
      const results = usePairs
        ? args.pairs!.map((pair, i) => ({ index: i, score: cosine(v[2 * i]!, v[2 * i + 1]!), ...(args.return_documents ? { pair } : {}) }))
        : args.documents!.map((document, i) => ({
            index: i,
            score: cosine(v[0]!, v[i + 1]!),
            ...(args.return_documents ? { document } : {}),
          }));
      return rankedResult(args.model, results, args.top_k, out.tokens);
    },
  });
}

/** The texts a similarity call embeds: the query then the documents, or each pair's two texts. */
function textsOf(args: {
  query?: string | undefined;
  documents?: string[] | undefined;
  pairs?: Array<[string, string]> | undefined;
}): string[] {
  return args.pairs !== undefined ? args.pairs.flat() : [args.query!, ...args.documents!];
}
