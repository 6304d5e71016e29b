/**
 * @module backends/transformers-tokens
 * Token-level access to a loaded transformers.js tokenizer: encoder inputs as unpadded rows
 * (from texts, or from the caller's own token ids: OpenAI's token-array embeddings input) padded
 * into tensors per length group (backends/length-groups.ts), and tokenization with each
 * token's text and, where it can be found, its character span in the input (TEI's /tokenize).
 * The tokenizer reports no offsets, so spans are found by aligning each decoded token with the
 * input; a token that does not align (a normalizer changed the text, a byte split a character)
 * gets null offsets rather than a guess.
 */
import { Tensor } from '@huggingface/transformers';
import { ServerError } from '../errors.js';
import type { Token, TokenizeInput, TokenizeOutput } from './types.js';

/** The parts of a transformers.js tokenizer used here. */
export interface TokenizerLike {
  encode(text: string, o?: { add_special_tokens?: boolean }): number[];
  decode(ids: number[], o?: { skip_special_tokens?: boolean }): string;
  all_special_ids: number[];
  pad_token_id?: number | null;
  model_max_length?: number;
}

/** One input's encoder tensors before padding: each input name's values (input_ids, attention_mask, ...). */
export type TokenRow = Record<string, BigInt64Array>;

/** The values of one text's tokenizer output (a batch of one, truncated to the model's length). */
export function encodeRow(
  tokenize: (text: string, o: Record<string, unknown>) => Record<string, Tensor>,
  text: string,
  pair?: string,
): TokenRow {
  // A pair is truncated from its second text first (the document side of a query-document pair).
  const enc = tokenize(text, pair === undefined ? { truncation: true } : { text_pair: pair, truncation: true });
  const row: TokenRow = {};
  for (const [name, t] of Object.entries(enc)) row[name] = t.data as BigInt64Array;
  return row;
}

/** Encoder rows (input_ids, attention_mask, token_type_ids) for lists of token ids, truncated to the model's length. */
export function idsToRows(tok: TokenizerLike, ids: number[][], vocabSize: number): TokenRow[] {
  const max = Number.isFinite(tok.model_max_length) && tok.model_max_length! > 0 ? tok.model_max_length! : 512;
  return ids.map((list, i) => {
    const r = list.slice(0, max);
    const bad = r.find((id) => !Number.isInteger(id) || id < 0 || id >= vocabSize);
    if (bad !== undefined)
      throw new ServerError('invalid_input', `token id ${bad} (input ${i}) is outside the model's vocabulary of ${vocabSize}`);
    return {
      input_ids: BigInt64Array.from(r, BigInt),
      attention_mask: new BigInt64Array(r.length).fill(1n),
      token_type_ids: new BigInt64Array(r.length),
    };
  });
}

/** Tokens in a row. */
export const rowLength = (row: TokenRow): number => row.input_ids!.length;

/**
 * Tensors for the rows at `which`, padded on the right to the longest of them: input_ids with
 * the pad token, every other input (attention mask, token types) with 0.
 */
export function padRows(rows: readonly TokenRow[], which: readonly number[], padId: number): Record<string, Tensor> {
  const len = Math.max(...which.map((i) => rowLength(rows[i]!)));
  const dims = [which.length, len];
  const out: Record<string, Tensor> = {};
  for (const name of Object.keys(rows[which[0]!]!)) {
    const data = new BigInt64Array(which.length * len);
    if (name === 'input_ids') data.fill(BigInt(padId));
    which.forEach((i, b) => data.set(rows[i]![name]!, b * len));
    out[name] = new Tensor('int64', data, dims);
  }
  return out;
}

/** Tokenizes each text, aligning tokens with the input to find their spans; or decodes ids back into text. */
export function tokenizeTexts(tok: TokenizerLike, input: TokenizeInput, vocabSize = Number.MAX_SAFE_INTEGER): TokenizeOutput {
  if (input.decode) {
    const { ids, skipSpecialTokens } = input.decode;
    return {
      tokens: [],
      texts: ids.map((list, i) => {
        const bad = list.find((id) => !Number.isInteger(id) || id < 0 || id >= vocabSize);
        if (bad !== undefined)
          throw new ServerError('invalid_input', `token id ${bad} (input ${i}) is outside the model's vocabulary of ${vocabSize}`);
        return tok.decode(list, { skip_special_tokens: skipSpecialTokens });
      }),
    };
  }
  return {
    tokens: input.texts.map((text) => alignTokens(tok, text, tok.encode(text, { add_special_tokens: input.addSpecialTokens })).tokens),
  };
}

/**
 * Each token of `ids` (the encoding of `text`) with its span in the text, where it can be
 * aligned, and each token's own decoded piece (WordPiece's `##` kept).
 */
export function alignTokens(tok: TokenizerLike, text: string, ids: number[]): { tokens: Token[]; pieces: string[] } {
  const special = new Set(tok.all_special_ids);
  const lower = text.toLowerCase();
  let cursor = 0;
  const pieces = ids.map((id) => tok.decode([id], { skip_special_tokens: false }));
  const tokens = ids.map((id, i): Token => {
    const piece = pieces[i]!;
    if (special.has(id)) return { id, text: piece, special: true, start: null, stop: null };
    // WordPiece marks a word's continuation with ##; the text has no such characters.
    const want = piece.replace(/^##/, '').trim().toLowerCase();
    const at = want ? lower.indexOf(want, cursor) : -1;
    // Only whitespace may lie between the last token and this one; anything else is not a match.
    if (at < 0 || lower.slice(cursor, at).trim() !== '') return { id, text: piece, special: false, start: null, stop: null };
    cursor = at + want.length;
    return { id, text: text.slice(at, cursor), special: false, start: at, stop: cursor };
  });
  return { tokens, pieces };
}
