/**
 * @module tasks/rerank
 * `rerank`: orders documents by relevance to a query with a cross-encoder, a sequence classifier
 * that reads the query and each document together (segment ids) and gives one logit. That is
 * what "reranker" means to TEI, Cohere, Jina, LangChain and LlamaIndex users, and it ranks better
 * than comparing separate embeddings (`similarity`). The score is the sigmoid of the logit, as
 * TEI gives by default; `raw_scores` returns the logit. A long pair is cut from the document's end.
 */
import { z } from 'zod';
import type { TaskDeps } from './deps.js';
import { INFER_SCOPE } from './scopes.js';
import { READ_ONLY, UsageSchema, checkTexts, modelField, modelsFor, rankedResult, skillFor } from './common.js';
import { defineTask, type AnyTask } from './task.js';

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

export function rerankTask(deps: TaskDeps): AnyTask | undefined {
  const models = modelsFor(deps.registry, ['text-ranking']);
  if (models.length === 0) return undefined;
  return defineTask({
    name: 'rerank',
    title: 'Rerank documents',
    description: 'Order documents by relevance to a query with a cross-encoder: better than `similarity` for search results (RAG).',
    inputSchema: {
      query: z.string().min(1).describe('The query.'),
      documents: z.array(z.string()).min(1).describe('Documents to order.'),
      top_k: z.number().int().min(1).max(1_000_000).optional().describe('Return only the best K (default all).'),
      return_documents: z.boolean().default(false).describe('Include each document text.'),
      raw_scores: z.boolean().default(false).describe('Return the logit instead of its sigmoid (0..1).'),
      model: modelField(models, 'Cross-encoder model.'),
    },
    outputSchema: {
      model: z.string(),
      results: z.array(z.object({ index: z.number(), score: z.number(), document: z.string().optional() })),
      usage: UsageSchema,
    },
    annotations: { title: 'Rerank documents', ...READ_ONLY },
    scope: INFER_SCOPE,
    prepare: (args) => {
      skillFor(deps.registry, args.model, ['text-ranking']);
      checkTexts([args.query], 'query', deps.config.limits);
      checkTexts(args.documents, 'documents', deps.config.limits);
      return args;
    },
    cacheable: () => true,
    handler: async (args, ctx) => {
      const out = await deps.executor.run(
        args.model,
        { task: 'text-ranking', texts: args.documents.map(() => args.query), pairs: args.documents },
        ctx.run,
      );
      const results = args.documents.map((document, index) => ({
        index,
        score: args.raw_scores ? out.scores[index]! : sigmoid(out.scores[index]!),
        ...(args.return_documents ? { document } : {}),
      }));
      return rankedResult(args.model, results, args.top_k, out.tokens);
    },
  });
}
