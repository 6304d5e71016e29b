/**
 * @module rest/rerank
 * Cohere- and Jina-style reranking, `POST /v1/rerank`, which LangChain's and LlamaIndex's
 * reranker integrations speak: `query`, `documents` (strings, or objects with `text`), `top_n`,
 * `return_documents` -> `results` of `index` and `relevance_score`, best first. An adapter over
 * the rerank task (a cross-encoder).
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { parseBody, runFor, skillName } from './common.js';
import { sendJson, type RestDeps, type RestRoute } from './route.js';

export const RerankRequest = z.object({
  model: z.string().optional().describe('A cross-encoder skill or its Hub id. Default: the default reranker.'),
  query: z.string().min(1),
  documents: z.array(z.union([z.string(), z.object({ text: z.string() }).passthrough()])).min(1),
  top_n: z.number().int().min(1).optional().describe('Return only the best N (default all).'),
  return_documents: z.boolean().default(false),
});

export function rerankRoutes(deps: RestDeps): RestRoute[] {
  return [
    {
      method: 'POST',
      path: '/v1/rerank',
      style: 'openai',
      doc: {
        summary: 'Rerank documents against a query with a cross-encoder (Cohere/Jina shape)',
        tag: 'Rerank',
        body: RerankRequest,
        response: z.object({
          id: z.string(),
          model: z.string(),
          results: z.array(
            z.object({ index: z.number(), relevance_score: z.number(), document: z.object({ text: z.string() }).optional() }),
          ),
          usage: z.object({ total_tokens: z.number() }),
        }),
      },
      handle: async (call) => {
        const b = parseBody(RerankRequest, await call.json());
        const texts = b.documents.map((d) => (typeof d === 'string' ? d : d.text));
        const out = await runFor(deps, call, 'rerank', {
          query: b.query,
          documents: texts,
          top_k: b.top_n,
          model: skillName(deps, b.model, ['text-ranking']),
        });
        const results = out.results as Array<{ index: number; score: number }>;
        sendJson(call.res, 200, {
          id: randomUUID(),
          model: out.model,
          results: results.map((r) => ({
            index: r.index,
            relevance_score: r.score,
            ...(b.return_documents ? { document: { text: texts[r.index] } } : {}),
          })),
          usage: { total_tokens: (out.usage as { total_tokens: number }).total_tokens },
        });
      },
    },
  ];
}
