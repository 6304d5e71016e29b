/**
 * @module rest/tei
 * Hugging Face text-embeddings-inference (TEI) routes, so TEI clients work unchanged: `/embed`,
 * `/rerank`, `/predict`, `/tokenize` and `/info`. TEI serves one model; here each route uses the default
 * model of its task unless the body (or `?model=`) names another. Adapters over the embed,
 * similarity and classify tasks.
 */
import { z } from 'zod';
import { ServerError } from '../errors.js';
import { VERSION } from '../version.js';
import { READ_SCOPE, requireScope } from '../tasks/scopes.js';
import { parseBody, runFor, skillName } from './common.js';
import { sendJson, type RestCall, type RestDeps, type RestRoute } from './route.js';

const model = z.string().optional().describe('Model (an extension of TEI): a skill name or Hub id. Default: the task’s default.');
const truncate = z.boolean().optional().describe('Accepted; inputs past the model’s maximum length are always truncated.');

export const TeiEmbedRequest = z.object({
  inputs: z.union([z.string(), z.array(z.string()).min(1)]),
  normalize: z.boolean().default(true),
  truncate,
  truncation_direction: z.enum(['right', 'Right']).optional().describe('Only right truncation is supported.'),
  dimensions: z.number().int().min(1).optional(),
  model,
});

export const TeiRerankRequest = z.object({
  query: z.string().min(1),
  texts: z.array(z.string()).min(1),
  return_text: z.boolean().default(false),
  raw_scores: z.boolean().default(false).describe('Scores are cosine similarities either way.'),
  truncate,
  model,
});

export const TeiPredictRequest = z.object({
  inputs: z.union([z.string(), z.array(z.string()).min(1)]).describe('A text, or a batch of texts (text pairs are not supported).'),
  raw_scores: z.boolean().default(false).describe('Not supported: scores are probabilities.'),
  truncate,
  model,
});

export const TeiTokenizeRequest = z.object({
  inputs: z.union([z.string(), z.array(z.string()).min(1)]),
  add_special_tokens: z.boolean().default(true),
  model,
});

const modelOf = (call: RestCall, body: { model?: string | undefined }) => body.model ?? call.query.get('model') ?? undefined;

export function teiRoutes(deps: RestDeps): RestRoute[] {
  return [
    {
      method: 'POST',
      path: '/embed',
      style: 'tei',
      doc: { summary: 'Embed (TEI)', tag: 'Text Embeddings Inference', body: TeiEmbedRequest, response: z.array(z.array(z.number())) },
      handle: async (call) => {
        const b = parseBody(TeiEmbedRequest, await call.json());
        const out = await runFor(deps, call, 'embed', {
          texts: typeof b.inputs === 'string' ? [b.inputs] : b.inputs,
          normalize: b.normalize,
          dimensions: b.dimensions,
          model: skillName(deps, modelOf(call, b), ['feature-extraction']),
        });
        sendJson(call.res, 200, out.embeddings);
      },
    },
    {
      method: 'POST',
      path: '/rerank',
      style: 'tei',
      doc: {
        summary: 'Rank texts against a query, best first (TEI)',
        tag: 'Text Embeddings Inference',
        body: TeiRerankRequest,
        response: z.array(z.object({ index: z.number(), score: z.number(), text: z.string().optional() })),
      },
      handle: async (call) => {
        const b = parseBody(TeiRerankRequest, await call.json());
        const out = await runFor(deps, call, 'similarity', {
          query: b.query,
          documents: b.texts,
          return_documents: b.return_text,
          model: skillName(deps, modelOf(call, b), ['feature-extraction']),
        });
        const results = out.results as Array<{ index: number; score: number; document?: string }>;
        sendJson(
          call.res,
          200,
          results.map((r) => ({ index: r.index, score: r.score, ...(b.return_text ? { text: r.document } : {}) })),
        );
      },
    },
    {
      method: 'POST',
      path: '/predict',
      style: 'tei',
      doc: {
        summary: 'Classify texts, every label with its score (TEI)',
        tag: 'Text Embeddings Inference',
        body: TeiPredictRequest,
        response: z.union([
          z.array(z.object({ label: z.string(), score: z.number() })),
          z.array(z.array(z.object({ label: z.string(), score: z.number() }))),
        ]),
      },
      handle: async (call) => {
        const b = parseBody(TeiPredictRequest, await call.json());
        if (b.raw_scores) throw new ServerError('invalid_input', 'raw_scores is not supported: scores are probabilities');
        const single = typeof b.inputs === 'string';
        const out = await runFor(deps, call, 'classify', {
          texts: single ? [b.inputs as string] : b.inputs,
          top_k: 1000,
          model: skillName(deps, modelOf(call, b), ['text-classification']),
        });
        const labels = (out.results as Array<{ labels: unknown[] }>).map((r) => r.labels);
        sendJson(call.res, 200, single ? labels[0] : labels);
      },
    },
    {
      method: 'POST',
      path: '/tokenize',
      style: 'tei',
      doc: {
        summary: 'Tokenize texts with the model’s tokenizer (TEI)',
        tag: 'Text Embeddings Inference',
        body: TeiTokenizeRequest,
        response: z.array(
          z.array(
            z.object({ id: z.number(), text: z.string(), special: z.boolean(), start: z.number().nullable(), stop: z.number().nullable() }),
          ),
        ),
      },
      handle: async (call) => {
        const b = parseBody(TeiTokenizeRequest, await call.json());
        const out = await runFor(deps, call, 'tokenize', {
          texts: typeof b.inputs === 'string' ? [b.inputs] : b.inputs,
          add_special_tokens: b.add_special_tokens,
          model: skillName(deps, modelOf(call, b), ['feature-extraction']),
        });
        sendJson(call.res, 200, out.tokens);
      },
    },
    {
      method: 'GET',
      path: '/info',
      style: 'tei',
      doc: { summary: 'Server and default embedding model (TEI)', tag: 'Text Embeddings Inference' },
      handle: async (call) => {
        requireScope(call.auth, READ_SCOPE);
        const name = skillName(deps, call.query.get('model') ?? undefined, ['feature-extraction']);
        const reg = name ? deps.registry.get(name) : deps.registry.forTask('feature-extraction')[0];
        if (!reg) throw new ServerError('unknown_model', 'no embedding model is installed');
        const s = reg.skill;
        sendJson(call.res, 200, {
          model_id: s.model.id,
          model_sha: s.model.revision ?? null,
          model_dtype: s.model.dtype ?? 'float32',
          model_type: s.tasks.includes('feature-extraction') ? { embedding: { pooling: 'mean' } } : { classifier: {} },
          max_concurrent_requests: deps.config.maxConcurrency,
          max_input_length: deps.config.limits.maxTextChars,
          max_client_batch_size: deps.config.limits.maxTexts,
          version: VERSION,
          name: s.name,
        });
      },
    },
  ];
}
