/**
 * @module bench/modelgen
 * Build time of the real-shape generated models, and raw onnxruntime-node throughput of the
 * generated MiniLM-L6 shape at batch 1 and 32 (16-token sentences). Prints a table and a final
 * JSON line. Run: `npm run bench -- modelgen`.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { makeModel } from '../tools/modelgen/index.js';

const SEQ = 16;

async function throughput(session: ort.InferenceSession, batch: number, seconds: number): Promise<number> {
  const n = batch * SEQ;
  const ids = new BigInt64Array(n);
  for (let i = 0; i < n; i++) ids[i] = BigInt(i % SEQ === 0 ? 101 : i % SEQ === SEQ - 1 ? 102 : 1000 + ((i * 7919) % 29000));
  const feeds = {
    input_ids: new ort.Tensor('int64', ids, [batch, SEQ]),
    attention_mask: new ort.Tensor('int64', new BigInt64Array(n).fill(1n), [batch, SEQ]),
    token_type_ids: new ort.Tensor('int64', new BigInt64Array(n), [batch, SEQ]),
  };
  for (let i = 0; i < 3; i++) await session.run(feeds);
  let done = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) {
    await session.run(feeds);
    done += batch;
  }
  return done / ((performance.now() - t0) / 1000);
}

export async function benchModelgen(): Promise<Record<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-modelgen-'));
  const result: Record<string, number> = {};
  try {
    for (const [arch, size] of [
      ['bert', 'minilm-l6'],
      ['gpt2', 'distilgpt2'],
      ['whisper', 'whisper-tiny'],
    ] as const) {
      const t0 = performance.now();
      const made = makeModel({ arch, size, out: join(dir, size) });
      result[`${size}_build_s`] = (performance.now() - t0) / 1000;
      result[`${size}_mb`] = Object.values(made.files).reduce((a, b) => a + b, 0) / 1e6;
    }
    const model = join(dir, 'minilm-l6', 'onnx', 'model.onnx');
    result['minilm-l6_model_onnx_mb'] = statSync(model).size / 1e6;
    for (const threads of [1, 2]) {
      const s = await ort.InferenceSession.create(model, { intraOpNumThreads: threads, interOpNumThreads: 1 });
      result[`raw_ort_b1_t${threads}_sent_per_s`] = await throughput(s, 1, 3);
      result[`raw_ort_b32_t${threads}_sent_per_s`] = await throughput(s, 32, 3);
      await s.release();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return result;
}
