/**
 * @module tasks/extract-entities
 * `extract_entities`: named entities (people, organisations, places...) from a token
 * classification model, with character offsets into the input. Aggregation follows Hugging
 * Face's token-classification pipeline: `none` labels each token; `simple` groups consecutive
 * tokens of one entity (B-/I- tags); `first`, `average` and `max` first merge a word's subword
 * tokens (its first token's label, the average of their probabilities, or the label of its most
 * confident token), then group words the same way.
 */
import { z } from 'zod';
import type { ClassifiedToken } from '../backends/types.js';
import { ServerError } from '../errors.js';
import type { TaskDeps } from './deps.js';
import { INFER_SCOPE } from './scopes.js';
import { READ_ONLY, UsageSchema, checkTexts, modelField, modelsFor, skillFor, nullableNumber } from './common.js';
import { defineTask, type AnyTask } from './task.js';

const AGGREGATIONS = ['none', 'simple', 'first', 'average', 'max'] as const;
type Aggregation = (typeof AGGREGATIONS)[number];

/** One labelled token or group, before the ignore filter. */
interface Labelled {
  entity: string;
  score: number;
  word: string;
  start: number | null;
  end: number | null;
  /** Probabilities over the labels (for averaging). */
  probs: number[];
  tokens: ClassifiedToken[];
}

const argmax = (xs: number[]) => xs.reduce((best, x, i) => (x > xs[best]! ? i : best), 0);

/** B- or I- and the entity type; a label without a prefix counts as I- (as Hugging Face reads it). */
function tagOf(label: string): { bi: 'B' | 'I'; type: string } {
  if (label.startsWith('B-')) return { bi: 'B', type: label.slice(2) };
  if (label.startsWith('I-')) return { bi: 'I', type: label.slice(2) };
  return { bi: 'I', type: label };
}

/** The text a run of tokens covers (from the first start to the last end), or their words joined. */
function spanText(text: string, items: Array<{ start: number | null; end: number | null; word: string }>): string {
  const first = items[0]!;
  const last = items[items.length - 1]!;
  return first.start !== null && last.end !== null ? text.slice(first.start, last.end) : items.map((i) => i.word).join(' ');
}

/** A token labelled with its most likely label. */
function labelled(t: ClassifiedToken, labels: string[]): Labelled {
  const i = argmax(t.probs);
  return { entity: labels[i]!, score: t.probs[i]!, word: t.word, start: t.start, end: t.end, probs: t.probs, tokens: [t] };
}

/** Merges each word's subword tokens into one labelled word (first, average or max). */
function words(tokens: ClassifiedToken[], labels: string[], how: 'first' | 'average' | 'max', text: string): Labelled[] {
  const groups: ClassifiedToken[][] = [];
  for (const t of tokens) {
    if (t.subword && groups.length > 0) groups[groups.length - 1]!.push(t);
    else groups.push([t]);
  }
  return groups.map((g) => {
    let probs: number[];
    if (how === 'first') probs = g[0]!.probs;
    else if (how === 'max') probs = g.reduce((best, t) => (Math.max(...t.probs) > Math.max(...best.probs) ? t : best)).probs;
    else probs = g[0]!.probs.map((_, i) => g.reduce((a, t) => a + t.probs[i]!, 0) / g.length);
    const i = argmax(probs);
    return {
      entity: labels[i]!,
      score: probs[i]!,
      word: spanText(text, g),
      start: g[0]!.start,
      end: g[g.length - 1]!.end,
      probs,
      tokens: g,
    };
  });
}

/** Groups consecutive items of one entity type (a B- tag starts a new group), score the mean. */
function group(items: Labelled[], text: string) {
  const out: Array<{ entity_group: string; score: number; word: string; start: number | null; end: number | null }> = [];
  let run: Labelled[] = [];
  const flush = () => {
    if (run.length === 0) return;
    out.push({
      entity_group: tagOf(run[0]!.entity).type,
      score: run.reduce((a, r) => a + r.score, 0) / run.length,
      word: spanText(text, run),
      start: run[0]!.start,
      end: run[run.length - 1]!.end,
    });
    run = [];
  };
  for (const it of items) {
    const last = run[run.length - 1];
    const { bi, type } = tagOf(it.entity);
    if (last && type === tagOf(last.entity).type && bi !== 'B') run.push(it);
    else {
      flush();
      run = [it];
    }
  }
  flush();
  return out;
}

export function extractEntitiesTask(deps: TaskDeps): AnyTask | undefined {
  const models = modelsFor(deps.registry, ['token-classification']);
  if (models.length === 0) return undefined;
  return defineTask({
    name: 'extract_entities',
    title: 'Extract entities',
    description: 'Find named entities (people, organisations, places...) in text, with character offsets.',
    inputSchema: {
      text: z.string().optional().describe('One text.'),
      texts: z.array(z.string()).min(1).optional().describe('Several texts (instead of `text`).'),
      aggregation: z
        .enum(AGGREGATIONS)
        .default('simple')
        .describe('none: per token; simple: group tokens; first/average/max: merge subwords, then group.'),
      ignore_labels: z.array(z.string()).default(['O']).describe('Labels left out.'),
      model: modelField(models, 'Token classification model.'),
    },
    outputSchema: {
      model: z.string(),
      results: z.array(
        z.array(
          z.object({
            entity: z.string().optional(),
            entity_group: z.string().optional(),
            score: z.number(),
            word: z.string(),
            start: nullableNumber('Character offset in the input.'),
            end: nullableNumber('End offset.'),
          }),
        ),
      ),
      usage: UsageSchema,
    },
    annotations: { title: 'Extract entities', ...READ_ONLY },
    scope: INFER_SCOPE,
    prepare: (args) => {
      skillFor(deps.registry, args.model, ['token-classification']);
      if ((args.text === undefined) === (args.texts === undefined))
        throw new ServerError('invalid_input', 'give exactly one of `text` or `texts`');
      checkTexts(args.texts ?? [args.text!], args.texts ? 'texts' : 'text', deps.config.limits);
      return args;
    },
    cacheable: () => true,
    handler: async (args, ctx) => {
      const texts = args.texts ?? [args.text!];
      const out = await deps.executor.run(args.model, { task: 'token-classification', texts }, ctx.run);
      const ignore = new Set(args.ignore_labels);
      const results = out.results.map((tokens, t) => {
        const real = tokens.filter((x) => !x.special);
        const agg = args.aggregation as Aggregation;
        if (agg === 'none')
          return real
            .map((x) => labelled(x, out.labels))
            .filter((e) => !ignore.has(e.entity))
            .map(({ entity, score, word, start, end }) => ({ entity, score, word, start, end }));
        const items = agg === 'simple' ? real.map((x) => labelled(x, out.labels)) : words(real, out.labels, agg, texts[t]!);
        return group(items, texts[t]!).filter((g) => !ignore.has(g.entity_group));
      });
      const used = out.tokens.reduce((a, b) => a + b, 0);
      return { model: args.model, results, usage: { prompt_tokens: used, total_tokens: used } };
    },
  });
}
