/**
 * @module rest/tei
 * Hugging Face text-embeddings-inference (TEI) routes, so TEI clients work unchanged: `/embed`,
 * `/embed_all`, `/rerank`, `/predict`, `/tokenize`, `/decode`, `/info`, and the default route
 * `POST /` (with SageMaker's `/invocations`), which embeds or predicts by the model's task, as
 * TEI does for the one model it serves. Here each route uses the default model of its task
 * unless the body (or `?model=`) names another. Adapters over the embed, similarity, classify
 * and tokenize tasks.
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
  raw_scores: z.boolean().default(false).describe('The cross-encoder logit instead of its sigmoid.'),
  truncate,
  model,
});

const Pair = z.tuple([z.string(), z.string()]);

export const TeiEmbedAllRequest = z.object({ inputs: z.union([z.string(), z.array(z.string()).min(1)]), truncate, model });

export const TeiDecodeRequest = z.object({
  ids: z.union([z.array(z.number().int().min(0)).min(1), z.array(z.array(z.number().int().min(0)).min(1)).min(1)]),
  skip_special_tokens: z.boolean().default(true),
  model,
});

export const TeiPredictRequest = z.object({
  inputs: z
    .union([z.string(), Pair, z.array(z.string()).min(1), z.array(Pair).min(1)])
    .describe(
      'A text, a text pair, or a batch of either (pairs are read together, as NLI models do). As in TEI, two strings are one pair.',
    ),
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

const SentenceSimilarity = z.object({ source_sentence: z.string(), sentences: z.array(z.string()).min(1) });

/** What TEI's default route takes: an embed or predict body, or a rerank body. */
export const TeiDefaultRequest = z.object({
  inputs: z.unknown().optional().describe('As for /embed, or for /predict when the model is a classifier.'),
  query: z.string().optional().describe('With `texts`: rerank them against the query, as /rerank.'),
  texts: z.array(z.string()).optional(),
  model,
});

async function embed(deps: RestDeps, call: RestCall, b: z.infer<typeof TeiEmbedRequest>): Promise<unknown> {
  const out = await runFor(deps, call, 'embed', {
    texts: typeof b.inputs === 'string' ? [b.inputs] : b.inputs,
    normalize: b.normalize,
    dimensions: b.dimensions,
    model: skillName(deps, modelOf(call, b), ['feature-extraction']),
  });
  return out.embeddings;
}

/** `nested`: a single input's labels still come as a list of one (the shape Hugging Face's inference clients read). */
async function predict(deps: RestDeps, call: RestCall, b: z.infer<typeof TeiPredictRequest>, nested = false): Promise<unknown> {
  if (b.raw_scores) throw new ServerError('invalid_input', 'raw_scores is not supported: scores are probabilities');
  const isPair = (x: unknown): x is [string, string] => Array.isArray(x) && x.length === 2 && x.every((y) => typeof y === 'string');
  const single = typeof b.inputs === 'string' || (isPair(b.inputs) && !b.inputs.some(Array.isArray));
  const items: Array<string | [string, string]> =
    typeof b.inputs === 'string' ? [b.inputs] : single ? [b.inputs as [string, string]] : (b.inputs as Array<string | [string, string]>);
  const pairs = items.every(Array.isArray);
  if (!pairs && items.some(Array.isArray))
    throw new ServerError('invalid_input', 'give texts or text pairs, not a mix', { details: { field: 'inputs' } });
  const out = await runFor(deps, call, 'classify', {
    texts: items.map((x) => (Array.isArray(x) ? x[0] : x)),
    ...(pairs ? { text_pairs: items.map((x) => (x as [string, string])[1]) } : {}),
    top_k: 1000,
    model: skillName(deps, modelOf(call, b), ['text-classification']),
  });
  const labels = (out.results as Array<{ labels: unknown[] }>).map((r) => r.labels);
  return single && !nested ? labels[0] : labels;
}

/**
 * TEI's default route: TEI serves one model and routes by its type. Here the model named by
 * `?model=` or the body decides (a classifier predicts, anything else embeds; no name means the
 * default embedding model), and a body with `query` and `texts` reranks. Predictions come as a
 * list per input even for one input, the shape @huggingface/inference reads from this route.
 */
async function byModel(deps: RestDeps, call: RestCall, body: unknown): Promise<unknown> {
  const b = parseBody(TeiDefaultRequest, body);
  if (b.query !== undefined || b.texts !== undefined) {
    const r = parseBody(TeiRerankRequest, body);
    return rerank(deps, call, r);
  }
  // Hugging Face's sentence-similarity shape (what @huggingface/inference sends): scores in order.
  const inputs = b.inputs as { source_sentence?: unknown; sentences?: unknown } | undefined;
  if (inputs && typeof inputs === 'object' && !Array.isArray(inputs)) {
    const s = parseBody(SentenceSimilarity, inputs);
    const out = await runFor(deps, call, 'similarity', {
      query: s.source_sentence,
      documents: s.sentences,
      model: skillName(deps, modelOf(call, b), ['feature-extraction']),
    });
    const scores = new Array<number>(s.sentences.length);
    for (const r of out.results as Array<{ index: number; score: number }>) scores[r.index] = r.score;
    return scores;
  }
  const named = skillName(deps, modelOf(call, b), ['feature-extraction', 'text-classification']);
  const skill = named ? deps.registry.get(named)?.skill : undefined;
  const classifier = skill !== undefined && skill.tasks.includes('text-classification') && !skill.tasks.includes('feature-extraction');
  return classifier ? predict(deps, call, parseBody(TeiPredictRequest, body), true) : embed(deps, call, parseBody(TeiEmbedRequest, body));
}

/**
 * TEI's /rerank: a cross-encoder (the default reranker, or the one named) reads the query with
 * each text. A bi-encoder named explicitly still answers, with cosine scores, as `similarity`.
 */
async function rerank(deps: RestDeps, call: RestCall, b: z.infer<typeof TeiRerankRequest>): Promise<unknown> {
  const named = skillName(deps, modelOf(call, b), ['text-ranking', 'feature-extraction']);
  const skill = named ? deps.registry.get(named)?.skill : undefined;
  const biEncoder = skill !== undefined && !skill.tasks.includes('text-ranking') && skill.tasks.includes('feature-extraction');
  const out = biEncoder
    ? await runFor(deps, call, 'similarity', { query: b.query, documents: b.texts, return_documents: b.return_text, model: named })
    : await runFor(deps, call, 'rerank', {
        query: b.query,
        documents: b.texts,
        return_documents: b.return_text,
        raw_scores: b.raw_scores,
        model: named,
      });
  const results = out.results as Array<{ index: number; score: number; document?: string }>;
  return results.map((r) => ({ index: r.index, score: r.score, ...(b.return_text ? { text: r.document } : {}) }));
}

export function teiRoutes(deps: RestDeps): RestRoute[] {
  return [
    {
      method: 'POST',
      path: '/embed',
      style: 'tei',
      doc: { summary: 'Embed (TEI)', tag: 'Text Embeddings Inference', body: TeiEmbedRequest, response: z.array(z.array(z.number())) },
      handle: async (call) => sendJson(call.res, 200, await embed(deps, call, parseBody(TeiEmbedRequest, await call.json()))),
    },
    {
      method: 'POST',
      path: '/embed_all',
      style: 'tei',
      doc: {
        summary: 'Every token’s vector, without pooling (TEI)',
        tag: 'Text Embeddings Inference',
        body: TeiEmbedAllRequest,
        response: z.array(z.array(z.array(z.number()))),
      },
      handle: async (call) => {
        const b = parseBody(TeiEmbedAllRequest, await call.json());
        const out = await runFor(deps, call, 'embed', {
          texts: typeof b.inputs === 'string' ? [b.inputs] : b.inputs,
          pooling: 'none',
          normalize: false,
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
      handle: async (call) => sendJson(call.res, 200, await rerank(deps, call, parseBody(TeiRerankRequest, await call.json()))),
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
      handle: async (call) => sendJson(call.res, 200, await predict(deps, call, parseBody(TeiPredictRequest, await call.json()))),
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
      method: 'POST',
      path: '/decode',
      style: 'tei',
      doc: {
        summary: 'Token ids back into text (TEI)',
        tag: 'Text Embeddings Inference',
        body: TeiDecodeRequest,
        response: z.array(z.string()),
      },
      handle: async (call) => {
        const b = parseBody(TeiDecodeRequest, await call.json());
        const ids = typeof b.ids[0] === 'number' ? [b.ids as number[]] : (b.ids as number[][]);
        const out = await runFor(deps, call, 'tokenize', {
          ids,
          skip_special_tokens: b.skip_special_tokens,
          model: skillName(deps, modelOf(call, b), ['feature-extraction']),
        });
        sendJson(call.res, 200, out.texts);
      },
    },
    ...['/', '/invocations'].map((path): RestRoute => ({
      method: 'POST',
      path,
      style: 'tei',
      doc: {
        summary:
          path === '/'
            ? 'TEI’s default route: embed, or predict when the model (?model= or `model`) is a classifier; `query` + `texts` reranks'
            : 'SageMaker invocations: the same as POST /',
        tag: 'Text Embeddings Inference',
        body: TeiDefaultRequest,
      },
      handle: async (call) => sendJson(call.res, 200, await byModel(deps, call, await call.json())),
    })),
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
