/**
 * @module tokenizers
 * Tokenizer files for generated models, in the Hugging Face `tokenizer.json` format that
 * transformers.js loads: WordPiece (BERT) and byte-level BPE (GPT-2, Whisper, CLIP). Vocabularies
 * are built deterministically: BPE merges are learned from a small embedded English corpus and
 * then padded with valid merges up to the requested size, so real shapes (30522, 50257, 51865)
 * are exact and ordinary English tokenizes into plausible pieces.
 */

/** A tokenizer folder's two JSON files. */
export interface TokenizerFiles {
  tokenizer: Record<string, unknown>;
  config: Record<string, unknown>;
  /** Size of the model's embedding table this tokenizer needs. */
  vocabSize: number;
}

const CORPUS = `
The quick brown fox jumps over the lazy dog. A model server lets agents use local models as tools.
Embeddings turn sentences into vectors, and similar sentences have similar vectors. The weather is
nice today and the sun is shining over the river. Machine learning models read text, look at images
and listen to speech. This is a test of the tokenizer with numbers like 12, 345 and 2026. People
often ask questions about their documents, their code and their data. The server loads a model,
runs it on the best available device and returns the result. When the memory budget is full, the
least recently used model is unloaded first. Hello world! How are you doing? I am fine, thank you.
Transformers use attention to mix information between tokens in a sequence. Speech recognition
turns audio into text; object detection finds boxes in pictures. Good morning, good evening and
good night. She reads a book while he writes a letter to his friend in another country.
`;

// ---------------------------------------------------------------------------------------------
// WordPiece (BERT)

const BERT_SPECIALS: Record<string, number> = { '[PAD]': 0, '[UNK]': 100, '[CLS]': 101, '[SEP]': 102, '[MASK]': 103 };

/**
 * A BERT-style uncased WordPiece vocabulary of exactly `size` entries (size >= 400):
 * specials at BERT's ids, characters and `##` characters, corpus words, then 2- and 3-letter
 * pieces, with and without `##`, until full.
 */
export function wordPieceVocab(size: number): string[] {
  if (size < 400) throw new Error(`WordPiece vocab size must be >= 400 (got ${size})`);
  const vocab: string[] = [];
  const seen = new Set<string>();
  const add = (t: string): void => {
    if (vocab.length < size && !seen.has(t)) {
      seen.add(t);
      vocab.push(t);
    }
  };
  for (let i = 0; i <= 103; i++) {
    const special = Object.entries(BERT_SPECIALS).find(([, id]) => id === i)?.[0];
    add(special ?? `[unused${i}]`);
  }
  const chars = 'abcdefghijklmnopqrstuvwxyz0123456789.,!?;:\'"()-_/&%$#@*+=<>[]{}|\\~`^';
  for (const c of chars) add(c);
  for (const c of chars) add(`##${c}`);
  const words = [...new Set(CORPUS.toLowerCase().match(/[a-z]+/g) ?? [])].sort();
  for (const w of words) add(w);
  const letters = 'etaoinshrdlcumwfgypbvkjxqz';
  for (const a of letters) for (const b of letters) add(a + b);
  for (const a of letters) for (const b of letters) add(`##${a}${b}`);
  for (const a of letters)
    for (const b of letters)
      for (const c of letters) {
        add(a + b + c);
        add(`##${a}${b}${c}`);
      }
  for (let i = 0; vocab.length < size; i++) add(`[extra${i}]`);
  return vocab;
}

function addedToken(id: number, content: string, special = true): Record<string, unknown> {
  return { id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special };
}

/** BERT uncased WordPiece tokenizer files. */
export function bertTokenizer(vocabSize: number, maxLength: number): TokenizerFiles {
  const vocab = wordPieceVocab(vocabSize);
  const special = (t: string) => ({ id: t, ids: [BERT_SPECIALS[t]], tokens: [t] });
  return {
    vocabSize,
    tokenizer: {
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: Object.entries(BERT_SPECIALS).map(([t, id]) => addedToken(id, t)),
      normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
      pre_tokenizer: { type: 'BertPreTokenizer' },
      post_processor: {
        type: 'TemplateProcessing',
        single: [
          { SpecialToken: { id: '[CLS]', type_id: 0 } },
          { Sequence: { id: 'A', type_id: 0 } },
          { SpecialToken: { id: '[SEP]', type_id: 0 } },
        ],
        pair: [
          { SpecialToken: { id: '[CLS]', type_id: 0 } },
          { Sequence: { id: 'A', type_id: 0 } },
          { SpecialToken: { id: '[SEP]', type_id: 0 } },
          { Sequence: { id: 'B', type_id: 1 } },
          { SpecialToken: { id: '[SEP]', type_id: 1 } },
        ],
        special_tokens: { '[CLS]': special('[CLS]'), '[SEP]': special('[SEP]') },
      },
      decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
      model: {
        type: 'WordPiece',
        unk_token: '[UNK]',
        continuing_subword_prefix: '##',
        max_input_chars_per_word: 100,
        vocab: Object.fromEntries(vocab.map((t, i) => [t, i])),
      },
    },
    config: {
      tokenizer_class: 'BertTokenizer',
      do_lower_case: true,
      model_max_length: maxLength,
      cls_token: '[CLS]',
      sep_token: '[SEP]',
      pad_token: '[PAD]',
      unk_token: '[UNK]',
      mask_token: '[MASK]',
      clean_up_tokenization_spaces: true,
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Byte-level BPE (GPT-2 family)

/** GPT-2's reversible byte -> printable unicode map. */
export function bytesToUnicode(): string[] {
  const bs: number[] = [];
  for (let i = 33; i <= 126; i++) bs.push(i);
  for (let i = 161; i <= 172; i++) bs.push(i);
  for (let i = 174; i <= 255; i++) bs.push(i);
  const cs = [...bs];
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n++);
    }
  }
  const out: string[] = new Array(256);
  bs.forEach((b, i) => (out[b] = String.fromCodePoint(cs[i]!)));
  return out;
}

const GPT2_SPLIT = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

/**
 * Learns BPE merges on `words` (symbol sequences with their frequencies) while `more()` holds:
 * each step merges the most frequent adjacent pair (ties: the smaller pair), reports it to
 * `onMerge`, and applies it to every word. Stops early when no pair occurs twice.
 */
function learnMerges(words: Array<{ syms: string[]; f: number }>, more: () => boolean, onMerge: (a: string, b: string) => void): void {
  while (more()) {
    const counts = new Map<string, number>();
    for (const { syms, f } of words) {
      for (let i = 0; i + 1 < syms.length; i++) {
        const p = `${syms[i]} ${syms[i + 1]}`;
        counts.set(p, (counts.get(p) ?? 0) + f);
      }
    }
    let best: string | null = null;
    let bestN = 1;
    for (const [p, n] of counts) if (n > bestN || (n === bestN && best !== null && p < best)) [best, bestN] = [p, n];
    if (best === null) return;
    const [a, b] = best.split(' ') as [string, string];
    onMerge(a, b);
    for (const w of words) {
      const out: string[] = [];
      for (let i = 0; i < w.syms.length; i++) {
        if (i + 1 < w.syms.length && w.syms[i] === a && w.syms[i + 1] === b) {
          out.push(a + b);
          i++;
        } else out.push(w.syms[i]!);
      }
      w.syms = out;
    }
  }
}

/**
 * Byte-level BPE vocabulary with `nMerges` merges: learned from the corpus, then padded with
 * merges of existing tokens (each merge result is new), in a deterministic order.
 */
export function byteLevelBpe(nMerges: number): { vocab: string[]; merges: string[] } {
  const b2u = bytesToUnicode();
  const vocab = [...b2u];
  const known = new Set(vocab);
  const merges: string[] = [];
  const enc = new TextEncoder();
  const freq = new Map<string, number>();
  for (const w of CORPUS.replace(/\s+/g, ' ').match(GPT2_SPLIT) ?? []) {
    const key = [...enc.encode(w)].map((b) => b2u[b]).join('\u0000');
    freq.set(key, (freq.get(key) ?? 0) + 1);
  }
  const words = [...freq.entries()].map(([k, f]) => ({ syms: k.split('\u0000'), f }));
  learnMerges(
    words,
    () => merges.length < nMerges,
    (a, b) => {
      merges.push(`${a} ${b}`);
      if (!known.has(a + b)) {
        known.add(a + b);
        vocab.push(a + b);
      }
    },
  );
  // Pad with merges of a learned token and a printable byte symbol, in a fixed order.
  const letters = [...'etaoinshrdlcumwfgypbvkjxqz'];
  const space = b2u[32]!;
  const bases = [...letters, ...letters.map((l) => space + l)];
  for (let round = 0; merges.length < nMerges; round++) {
    const before = merges.length;
    const stems = vocab.slice(256);
    for (const stem of [...bases, ...stems]) {
      for (const l of letters) {
        if (merges.length >= nMerges) break;
        if (!known.has(stem) || known.has(stem + l)) continue;
        merges.push(`${stem} ${l}`);
        known.add(stem + l);
        vocab.push(stem + l);
      }
      if (merges.length >= nMerges) break;
    }
    if (merges.length === before) throw new Error(`could not build ${nMerges} BPE merges (round ${round})`);
  }
  return { vocab, merges };
}

function byteLevelJson(vocab: Record<string, number>, merges: string[], added: Array<Record<string, unknown>>) {
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      vocab,
      merges,
    },
  };
}

/** GPT-2 tokenizer files: 256 bytes + merges + `<|endoftext|>` = `vocabSize`. */
export function gpt2Tokenizer(vocabSize: number, maxLength: number, chatTemplate?: string): TokenizerFiles {
  const { vocab, merges } = byteLevelBpe(vocabSize - 257);
  const eos = '<|endoftext|>';
  const ids: Record<string, number> = Object.fromEntries(vocab.map((t, i) => [t, i]));
  ids[eos] = vocab.length;
  return {
    vocabSize,
    tokenizer: byteLevelJson(ids, merges, [addedToken(vocab.length, eos)]),
    config: {
      tokenizer_class: 'GPT2Tokenizer',
      model_max_length: maxLength,
      bos_token: eos,
      eos_token: eos,
      unk_token: eos,
      pad_token: eos,
      add_prefix_space: false,
      clean_up_tokenization_spaces: false,
      ...(chatTemplate ? { chat_template: chatTemplate } : {}),
    },
  };
}

/** Whisper's language codes, in the order of their token ids. */
export const WHISPER_LANGUAGES = (
  'en zh de es ru ko fr ja pt tr pl ca nl ar sv it id hi fi vi he uk el ms cs ro da hu ta no th ur hr bg lt ' +
  'la mi ml cy sk te fa lv bn sr az sl kn et mk br eu is hy ne mn bs kk sq sw gl mr pa si km sn yo so af oc ' +
  'ka be tg sd gu am yi lo uz fo ht ps tk nn mt sa lb my bo tl mg as tt haw ln ha ba jw su'
).split(' ');

/** Ids of Whisper's special tokens for a given text-vocabulary size. */
export interface WhisperSpecials {
  eot: number;
  sot: number;
  langToId: Record<string, number>;
  translate: number;
  transcribe: number;
  startOfLm: number;
  startOfPrev: number;
  noSpeech: number;
  noTimestamps: number;
  timestampBegin: number;
  vocabSize: number;
}

/**
 * Whisper tokenizer files: byte-level BPE text tokens ending in `<|endoftext|>` (id
 * `textVocab - 1`), then Whisper's special tokens and 1501 timestamp tokens, as in the
 * multilingual checkpoints (textVocab 50257 gives the real 51865).
 */
export function whisperTokenizer(textVocab: number, maxLength: number): TokenizerFiles & { specials: WhisperSpecials } {
  const { vocab, merges } = byteLevelBpe(textVocab - 257);
  const ids: Record<string, number> = Object.fromEntries(vocab.map((t, i) => [t, i]));
  const added: Array<Record<string, unknown>> = [];
  let next = vocab.length;
  const addSpecial = (t: string): number => {
    ids[t] = next;
    added.push(addedToken(next, t));
    return next++;
  };
  const eot = addSpecial('<|endoftext|>');
  const sot = addSpecial('<|startoftranscript|>');
  const langToId: Record<string, number> = {};
  for (const l of WHISPER_LANGUAGES) langToId[`<|${l}|>`] = addSpecial(`<|${l}|>`);
  const translate = addSpecial('<|translate|>');
  const transcribe = addSpecial('<|transcribe|>');
  const startOfLm = addSpecial('<|startoflm|>');
  const startOfPrev = addSpecial('<|startofprev|>');
  const noSpeech = addSpecial('<|nospeech|>');
  const noTimestamps = addSpecial('<|notimestamps|>');
  const timestampBegin = next;
  for (let i = 0; i <= 1500; i++) {
    const t = `<|${(i * 0.02).toFixed(2)}|>`;
    ids[t] = next;
    added.push(addedToken(next++, t, false));
  }
  const tok = byteLevelJson(ids, merges, added);
  return {
    vocabSize: next,
    specials: {
      eot,
      sot,
      langToId,
      translate,
      transcribe,
      startOfLm,
      startOfPrev,
      noSpeech,
      noTimestamps,
      timestampBegin,
      vocabSize: next,
    },
    tokenizer: tok,
    config: {
      tokenizer_class: 'WhisperTokenizer',
      model_max_length: maxLength,
      bos_token: '<|endoftext|>',
      eos_token: '<|endoftext|>',
      unk_token: '<|endoftext|>',
      pad_token: '<|endoftext|>',
      add_prefix_space: false,
      clean_up_tokenization_spaces: true,
      errors: 'replace',
    },
  };
}

/**
 * CLIP-style tokenizer: byte-level BPE, `<|startoftext|>` and `<|endoftext|>` around each text,
 * with `<|endoftext|>` the highest id (CLIP pools the text embedding at the argmax id).
 */
export function clipTokenizer(vocabSize: number, maxLength: number): TokenizerFiles {
  const { vocab, merges } = byteLevelBpe(vocabSize - 258);
  const ids: Record<string, number> = Object.fromEntries(vocab.map((t, i) => [t, i]));
  const bos = '<|startoftext|>';
  const eos = '<|endoftext|>';
  ids[bos] = vocab.length;
  ids[eos] = vocab.length + 1;
  const tok = byteLevelJson(ids, merges, [addedToken(vocab.length, bos), addedToken(vocab.length + 1, eos)]);
  tok.normalizer = { type: 'Lowercase' } as never;
  tok.post_processor = {
    type: 'TemplateProcessing',
    single: [{ SpecialToken: { id: bos, type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: eos, type_id: 0 } }],
    pair: [
      { SpecialToken: { id: bos, type_id: 0 } },
      { Sequence: { id: 'A', type_id: 0 } },
      { SpecialToken: { id: eos, type_id: 0 } },
      { Sequence: { id: 'B', type_id: 1 } },
      { SpecialToken: { id: eos, type_id: 1 } },
    ],
    special_tokens: {
      [bos]: { id: bos, ids: [vocab.length], tokens: [bos] },
      [eos]: { id: eos, ids: [vocab.length + 1], tokens: [eos] },
    },
  } as never;
  return {
    vocabSize,
    tokenizer: tok,
    config: {
      tokenizer_class: 'CLIPTokenizer',
      model_max_length: maxLength,
      bos_token: bos,
      eos_token: eos,
      unk_token: eos,
      pad_token: eos,
      do_lower_case: true,
    },
  };
}

/** Qwen2.5's chat template (without tool calls): a default system turn, `<|im_start|>role` turns. */
export const QWEN2_CHAT_TEMPLATE =
  "{%- if messages[0]['role'] == 'system' %}{{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}" +
  "{%- else %}{{- '<|im_start|>system\\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\\n' }}{%- endif %}" +
  "{%- for message in messages %}{%- if not (message['role'] == 'system' and loop.first) %}" +
  "{{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}{%- endif %}{%- endfor %}" +
  "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}";

/** Ids of Qwen2's special tokens. */
export interface Qwen2Specials {
  endoftext: number;
  imStart: number;
  imEnd: number;
}

/**
 * Qwen2 tokenizer files: byte-level BPE, then `<|endoftext|>`, `<|im_start|>` and `<|im_end|>`
 * (the last three ids, as in the real vocabulary's order), with Qwen2.5's chat template;
 * `<|im_end|>` ends a turn and `<|endoftext|>` pads.
 */
export function qwen2Tokenizer(vocabSize: number, maxLength: number): TokenizerFiles & { specials: Qwen2Specials } {
  const { vocab, merges } = byteLevelBpe(vocabSize - 256 - 3);
  const ids: Record<string, number> = Object.fromEntries(vocab.map((t, i) => [t, i]));
  const added: Array<Record<string, unknown>> = [];
  let next = vocab.length;
  const special = (t: string): number => {
    ids[t] = next;
    added.push(addedToken(next, t));
    return next++;
  };
  const specials = { endoftext: special('<|endoftext|>'), imStart: special('<|im_start|>'), imEnd: special('<|im_end|>') };
  const tokenizer = byteLevelJson(ids, merges, added);
  // Qwen2 adds no BOS and splits digits one by one; its decoder is byte-level like GPT-2's.
  tokenizer.post_processor = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false };
  return {
    vocabSize,
    specials,
    tokenizer,
    config: {
      tokenizer_class: 'Qwen2Tokenizer',
      model_max_length: maxLength,
      bos_token: null,
      eos_token: '<|im_end|>',
      pad_token: '<|endoftext|>',
      unk_token: null,
      add_prefix_space: false,
      clean_up_tokenization_spaces: false,
      errors: 'replace',
      split_special_tokens: false,
      chat_template: QWEN2_CHAT_TEMPLATE,
    },
  };
}

// ---------------------------------------------------------------------------------------------
// SentencePiece BPE with byte fallback (Llama family)

const SP_SPACE = '\u2581';

/**
 * SentencePiece-style BPE pieces: `<unk>`, `<s>`, `</s>`, the 256 byte-fallback pieces
 * `<0x00>`..`<0xFF>`, every character of the corpus, `▁`, then merges learned on the corpus
 * (words carry a leading `▁`), padded with stem + letter merges to `vocabSize`.
 */
export function sentencePieceBpe(vocabSize: number): { vocab: string[]; merges: string[] } {
  const vocab = ['<unk>', '<s>', '</s>'];
  for (let b = 0; b < 256; b++) vocab.push(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
  const known = new Set(vocab);
  const addPiece = (p: string) => {
    if (!known.has(p)) {
      known.add(p);
      vocab.push(p);
    }
  };
  const text = CORPUS.replace(/\s+/g, ' ').trim();
  for (const c of [SP_SPACE, ...new Set(text.replace(/ /g, ''))].sort()) addPiece(c);
  if (vocab.length >= vocabSize) throw new Error(`SentencePiece vocab size must be > ${vocab.length} (got ${vocabSize})`);
  const freq = new Map<string, number>();
  for (const w of text.split(' ')) freq.set(SP_SPACE + w, (freq.get(SP_SPACE + w) ?? 0) + 1);
  const words = [...freq.entries()].map(([w, f]) => ({ syms: [...w], f }));
  const merges: string[] = [];
  learnMerges(
    words,
    () => vocab.length < vocabSize,
    (a, b) => {
      merges.push(`${a} ${b}`);
      addPiece(a + b);
    },
  );
  const letters = [...'etaoinshrdlcumwfgypbvkjxqz'];
  for (let round = 0; vocab.length < vocabSize; round++) {
    const before = vocab.length;
    for (const stem of [...letters.map((l) => SP_SPACE + l), ...vocab.slice(259)]) {
      for (const l of letters) {
        if (vocab.length >= vocabSize) break;
        if (!known.has(stem) || known.has(stem + l)) continue;
        merges.push(`${stem} ${l}`);
        addPiece(stem + l);
      }
      if (vocab.length >= vocabSize) break;
    }
    if (vocab.length === before) throw new Error(`could not build a ${vocabSize}-piece vocabulary (round ${round})`);
  }
  return { vocab, merges };
}

/** TinyLlama-chat's (Zephyr-style) chat template. */
export const LLAMA_CHAT_TEMPLATE =
  "{% for message in messages %}\n{% if message['role'] == 'user' %}\n{{ '<|user|>\\n' + message['content'] + eos_token }}\n" +
  "{% elif message['role'] == 'system' %}\n{{ '<|system|>\\n' + message['content'] + eos_token }}\n" +
  "{% elif message['role'] == 'assistant' %}\n{{ '<|assistant|>\\n'  + message['content'] + eos_token }}\n{% endif %}\n" +
  "{% if loop.last and add_generation_prompt %}\n{{ '<|assistant|>' }}\n{% endif %}\n{% endfor %}";

/**
 * Llama tokenizer files (the `tokenizer.json` of TinyLlama's export): SentencePiece BPE with byte
 * fallback, `▁` for spaces (a normalizer prepends one), `<s>` prepended to every sequence, and
 * the Zephyr-style chat template TinyLlama-chat uses.
 */
export function llamaTokenizer(vocabSize: number, maxLength: number): TokenizerFiles {
  const { vocab, merges } = sentencePieceBpe(vocabSize);
  const special = (t: string) => ({ id: t, ids: [vocab.indexOf(t)], tokens: [t] });
  return {
    vocabSize,
    tokenizer: {
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: ['<unk>', '<s>', '</s>'].map((t, i) => addedToken(i, t)),
      normalizer: {
        type: 'Sequence',
        normalizers: [
          { type: 'Prepend', prepend: SP_SPACE },
          { type: 'Replace', pattern: { String: ' ' }, content: SP_SPACE },
        ],
      },
      pre_tokenizer: null,
      post_processor: {
        type: 'TemplateProcessing',
        single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
        pair: [
          { SpecialToken: { id: '<s>', type_id: 0 } },
          { Sequence: { id: 'A', type_id: 0 } },
          { SpecialToken: { id: '<s>', type_id: 1 } },
          { Sequence: { id: 'B', type_id: 1 } },
        ],
        special_tokens: { '<s>': special('<s>') },
      },
      decoder: {
        type: 'Sequence',
        decoders: [
          { type: 'Replace', pattern: { String: SP_SPACE }, content: ' ' },
          { type: 'ByteFallback' },
          { type: 'Fuse' },
          { type: 'Strip', content: ' ', start: 1, stop: 0 },
        ],
      },
      model: {
        type: 'BPE',
        dropout: null,
        unk_token: '<unk>',
        continuing_subword_prefix: null,
        end_of_word_suffix: null,
        fuse_unk: true,
        byte_fallback: true,
        vocab: Object.fromEntries(vocab.map((t, i) => [t, i])),
        merges,
      },
    },
    config: {
      tokenizer_class: 'LlamaTokenizer',
      model_max_length: maxLength,
      bos_token: '<s>',
      eos_token: '</s>',
      unk_token: '<unk>',
      pad_token: '</s>',
      add_bos_token: true,
      add_eos_token: false,
      legacy: false,
      clean_up_tokenization_spaces: false,
      chat_template: LLAMA_CHAT_TEMPLATE,
    },
  };
}

// ---------------------------------------------------------------------------------------------
// SentencePiece Unigram (T5 family)

/**
 * T5 tokenizer files: a SentencePiece Unigram model (`<pad>` 0, `</s>` 1, `<unk>` 2, then pieces
 * with log-probability scores: corpus words with and without `▁`, single characters, and
 * letter pairs to fill `vocabSize`), a Metaspace pre-tokenizer and decoder, and `</s>` appended
 * to every sequence, as in FLAN-T5's `tokenizer.json`.
 */
export function t5Tokenizer(vocabSize: number, maxLength: number): TokenizerFiles {
  const pieces: Array<[string, number]> = [
    ['<pad>', 0],
    ['</s>', 0],
    ['<unk>', 0],
  ];
  const seen = new Set(pieces.map((p) => p[0]));
  const add = (p: string, score: number) => {
    if (pieces.length < vocabSize && !seen.has(p)) {
      seen.add(p);
      pieces.push([p, score]);
    }
  };
  const text = CORPUS.replace(/\s+/g, ' ').trim();
  const counts = new Map<string, number>();
  for (const w of text.split(' '))
    for (const part of w.match(/\p{L}+|\p{N}+|[^\p{L}\p{N}]+/gu) ?? []) counts.set(part, (counts.get(part) ?? 0) + 1);
  // Words score by frequency (more frequent, higher), always above the characters they are made of.
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  for (const [w, n] of [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))) {
    add(SP_SPACE + w, Math.log(n / total));
    add(w, Math.log(n / total) - 1);
  }
  add(SP_SPACE, -8);
  const printable = Array.from({ length: 94 }, (_, i) => String.fromCharCode(33 + i)).join('');
  for (const c of [...new Set(text.replace(/ /g, '') + printable)].sort()) {
    add(c, -10);
    add(SP_SPACE + c, -9.5);
  }
  const letters = [...'etaoinshrdlcumwfgypbvkjxqz'];
  for (const a of letters) for (const b of letters) add(SP_SPACE + a + b, -12);
  for (const a of letters) for (const b of letters) add(a + b, -12.5);
  for (let i = 0; pieces.length < vocabSize; i++) add(`<extra_piece_${i}>`, -20);
  return {
    vocabSize,
    tokenizer: {
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: ['<pad>', '</s>', '<unk>'].map((t, i) => addedToken(i, t)),
      normalizer: null,
      pre_tokenizer: { type: 'Metaspace', replacement: SP_SPACE, add_prefix_space: true, prepend_scheme: 'always' },
      post_processor: {
        type: 'TemplateProcessing',
        single: [{ Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '</s>', type_id: 0 } }],
        pair: [
          { Sequence: { id: 'A', type_id: 0 } },
          { SpecialToken: { id: '</s>', type_id: 0 } },
          { Sequence: { id: 'B', type_id: 0 } },
          { SpecialToken: { id: '</s>', type_id: 0 } },
        ],
        special_tokens: { '</s>': { id: '</s>', ids: [1], tokens: ['</s>'] } },
      },
      decoder: { type: 'Metaspace', replacement: SP_SPACE, add_prefix_space: true, prepend_scheme: 'always' },
      model: { type: 'Unigram', unk_id: 2, vocab: pieces, byte_fallback: false },
    },
    config: {
      tokenizer_class: 'T5Tokenizer',
      model_max_length: maxLength,
      eos_token: '</s>',
      pad_token: '<pad>',
      unk_token: '<unk>',
      extra_ids: 0,
      clean_up_tokenization_spaces: true,
    },
  };
}
