/**
 * @module bench/gpu
 * Raw onnxruntime-node on each execution provider this host can create a session on (cpu,
 * webgpu, cuda), on the generated MiniLM-L6 and distilgpt2 shapes: embedding throughput at batch
 * 32 (16-token rows) in fp32 and fp16 (every float tensor in half precision, as the Hub's
 * `model_fp16.onnx` files are), and greedy fp32 tokens/s with a KV cache (64 new tokens). A provider counts only
 * if a session really runs on it; otherwise its error is printed. Random token ids are enough
 * for throughput. Run: `npm run bench -- gpu` (GPU_SECONDS per figure, default 5; GPU_EPS to
 * pick providers, comma-separated; GPU_MODELS_DIR to reuse built models).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { makeModel } from '../tools/modelgen/index.js';
import { quantizeModel } from '../tools/modelgen/quantize.js';

const SECONDS = Number(process.env.GPU_SECONDS ?? 5);
const EPS = (process.env.GPU_EPS ?? 'cpu,webgpu,cuda').split(',').filter(Boolean);

function model(arch: 'bert' | 'gpt2', size: string): string {
  const dir = join(process.env.GPU_MODELS_DIR ?? join(tmpdir(), 'gpu-models'), `${arch}-${size}`);
  if (!existsSync(join(dir, 'onnx', 'model.onnx'))) {
    mkdirSync(dir, { recursive: true });
    makeModel({ arch, size, out: dir });
  }
  return dir;
}

/** The fp16 variant of a generated model's graph, written beside it once. */
function fp16Of(dir: string): string {
  const file = join(dir, 'onnx', 'model_fp16.onnx');
  if (!existsSync(file)) writeFileSync(file, quantizeModel(readFileSync(join(dir, 'onnx', 'model.onnx')), 'fp16').bytes);
  return file;
}

const options = (ep: string): ort.InferenceSession.SessionOptions => ({ executionProviders: [ep], graphOptimizationLevel: 'all' });

async function embedThroughput(dir: string, ep: string, file = join(dir, 'onnx', 'model.onnx')): Promise<number> {
  const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  const s = await ort.InferenceSession.create(file, options(ep));
  const B = 32;
  const S = 16;
  const ids = BigInt64Array.from({ length: B * S }, (_, i) => BigInt(1 + ((i * 7919) % (cfg.vocab_size - 1))));
  const feeds: Record<string, ort.Tensor> = {
    input_ids: new ort.Tensor('int64', ids, [B, S]),
    attention_mask: new ort.Tensor('int64', new BigInt64Array(B * S).fill(1n), [B, S]),
  };
  if (s.inputNames.includes('token_type_ids')) feeds.token_type_ids = new ort.Tensor('int64', new BigInt64Array(B * S), [B, S]);
  for (let i = 0; i < 5; i++) await s.run(feeds);
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < SECONDS * 1000) {
    await s.run(feeds);
    n++;
  }
  const rate = (n * B) / ((performance.now() - t0) / 1000);
  await s.release();
  return rate;
}

async function tokensPerSecond(dir: string, ep: string): Promise<number> {
  const cfg = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
  const s = await ort.InferenceSession.create(join(dir, 'onnx', 'model.onnx'), options(ep));
  const nH = cfg.n_head as number;
  const dH = (cfg.n_embd as number) / nH;
  const V = cfg.vocab_size as number;
  const decode = async (maxNew: number) => {
    let past: Record<string, ort.Tensor> = {};
    for (let l = 0; l < cfg.n_layer; l++)
      for (const kv of ['key', 'value'])
        past[`past_key_values.${l}.${kv}`] = new ort.Tensor('float32', new Float32Array(0), [1, nH, 0, dH]);
    let input = [11n, 12n, 13n, 14n, 15n, 16n, 17n, 18n];
    let total = input.length;
    let made = 0;
    const t0 = performance.now();
    while (made < maxNew) {
      const r = await s.run({
        input_ids: new ort.Tensor('int64', BigInt64Array.from(input), [1, input.length]),
        attention_mask: new ort.Tensor('int64', new BigInt64Array(total).fill(1n), [1, total]),
        position_ids: new ort.Tensor('int64', BigInt64Array.from(input.map((_, i) => BigInt(total - input.length + i))), [1, input.length]),
        ...past,
      });
      const logits = r.logits!.data as Float32Array;
      const last = logits.subarray((input.length - 1) * V, input.length * V);
      let best = 0;
      for (let i = 1; i < V; i++) if (last[i]! > last[best]!) best = i;
      made++;
      past = {};
      for (let l = 0; l < cfg.n_layer; l++)
        for (const kv of ['key', 'value']) past[`past_key_values.${l}.${kv}`] = r[`present.${l}.${kv}`]!;
      input = [BigInt(best)];
      total++;
    }
    return (made / (performance.now() - t0)) * 1000;
  };
  await decode(8);
  const rates: number[] = [];
  const t0 = performance.now();
  while (performance.now() - t0 < SECONDS * 1000) rates.push(await decode(64));
  await s.release();
  return rates.sort((a, b) => a - b)[Math.floor(rates.length / 2)]!;
}

export async function benchGpu(): Promise<Record<string, number>> {
  const minilm = model('bert', 'minilm-l6');
  const gpt2 = model('gpt2', 'distilgpt2');
  const out: Record<string, number> = {};
  for (const ep of EPS) {
    const figures: Array<[string, () => Promise<number>]> = [
      ['embed_b32_sentences_per_s', () => embedThroughput(minilm, ep)],
      ['embed_fp16_b32_sentences_per_s', () => embedThroughput(minilm, ep, fp16Of(minilm))],
      ['generate_tokens_per_s', () => tokensPerSecond(gpt2, ep)],
    ];
    // One failing figure (a provider without fp16 kernels, say) does not hide the others.
    for (const [name, measure] of figures) {
      try {
        out[`${ep}_${name}`] = await measure();
      } catch (e) {
        process.stderr.write(`gpu bench: ${ep} ${name} failed: ${(e as Error).message.split('\n')[0]}\n`);
      }
    }
  }
  return out;
}
