/**
 * The generated models tests share, by role. Folders come from `ensureModel` (cached).
 */
import { ensureModel, type FixtureSpec } from '../../tools/modelgen/cache.js';

export const FIXTURES = {
  bert: { arch: 'bert' },
  classifier: { arch: 'bert-classifier' },
  crossEncoder: { arch: 'bert-cross-encoder' },
  nli: { arch: 'bert-nli' },
  ner: { arch: 'bert-ner' },
  gpt2: { arch: 'gpt2' },
  gpt2chat: { arch: 'gpt2', chat: true },
  vit: { arch: 'vit' },
  detr: { arch: 'detr' },
  clip: { arch: 'clip' },
  whisper: { arch: 'whisper' },
  caption: { arch: 'vit-gpt2' },
  minilm: { arch: 'bert', size: 'minilm-l6' },
  qwen2: { arch: 'qwen2' },
  llama: { arch: 'llama' },
  t5: { arch: 't5' },
} satisfies Record<string, FixtureSpec>;

/** Folder of a shared fixture. */
export function fixture(name: keyof typeof FIXTURES): string {
  return ensureModel(FIXTURES[name]);
}
