/**
 * @module backends/transformers-tokens
 * Token-level access to a loaded transformers.js tokenizer: encoder inputs built from the
 * caller's own token ids (OpenAI's token-array embeddings input), and tokenization with each
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

/** Encoder inputs (input_ids, attention_mask, token_type_ids) for lists of token ids, padded on the right. */
export function idsToInputs(tok: TokenizerLike, ids: number[][], vocabSize: number): Record<string, Tensor> {
  const max = Number.isFinite(tok.model_max_length) && tok.model_max_length! > 0 ? tok.model_max_length! : 512;
  const rows = ids.map((r) => r.slice(0, max));
  for (const [i, r] of rows.entries()) {
    const bad = r.find((id) => !Number.isInteger(id) || id < 0 || id >= vocabSize);
    if (bad !== undefined)
      throw new ServerError('invalid_input', `token id ${bad} (input ${i}) is outside the model's vocabulary of ${vocabSize}`);
  }
  const len = Math.max(...rows.map((r) => r.length));
  const pad = BigInt(tok.pad_token_id ?? 0);
  const input = new BigInt64Array(rows.length * len).fill(pad);
  const mask = new BigInt64Array(rows.length * len);
  rows.forEach((r, b) =>
    r.forEach((id, j) => {
      input[b * len + j] = BigInt(id);
      mask[b * len + j] = 1n;
    }),
  );
  const dims = [rows.length, len];
  return {
    input_ids: new Tensor('int64', input, dims),
    attention_mask: new Tensor('int64', mask, dims),
    token_type_ids: new Tensor('int64', new BigInt64Array(rows.length * len), dims),
  };
}

/** Tokenizes each text, aligning tokens with the input to find their spans. */
export function tokenizeTexts(tok: TokenizerLike, input: TokenizeInput): TokenizeOutput {
  const special = new Set(tok.all_special_ids);
  return {
    tokens: input.texts.map((text) => {
      const ids = tok.encode(text, { add_special_tokens: input.addSpecialTokens });
      const lower = text.toLowerCase();
      let cursor = 0;
      return ids.map((id): Token => {
        const piece = tok.decode([id], { skip_special_tokens: false });
        if (special.has(id)) return { id, text: piece, special: true, start: null, stop: null };
        const want = piece.trim().toLowerCase();
        const at = want ? lower.indexOf(want, cursor) : -1;
        // Only whitespace may lie between the last token and this one; anything else is not a match.
        if (at < 0 || lower.slice(cursor, at).trim() !== '') return { id, text: piece, special: false, start: null, stop: null };
        cursor = at + want.length;
        return { id, text: text.slice(at, cursor), special: false, start: at, stop: cursor };
      });
    }),
  };
}
