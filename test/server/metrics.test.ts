/**
 * Every call counts in model_requests_total, failures included, with the status taken from the
 * error code: a load failure, bad media, an unknown model (under "none", so hostile names do not
 * grow the label set) and a success; the failed load is counted once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type Harness } from '../helpers/server.js';

let h: Harness;
beforeAll(async () => {
  h = await startServer();
});
afterAll(async () => h?.close());

const requests = async () => {
  h.app.deps.metrics.flush();
  const m = await h.app.deps.metrics.registry.getSingleMetric('model_requests_total')!.get();
  return (model: string, status: string) => m.values.find((v) => v.labels.model === model && v.labels.status === status)?.value ?? 0;
};

describe('model_requests_total', () => {
  it('counts failed requests with their code, and successes with their device', async () => {
    expect((await h.call('embed', { model: 'broken-embedder', texts: ['x'] })).isError).toBe(true);
    expect((await h.call('ocr', { image_base64: Buffer.from('not an image at all').toString('base64') })).isError).toBe(true);
    expect((await h.call('embed', { model: 'no-such-model-xyz', texts: ['x'] })).isError).toBe(true);
    expect((await h.call('embed', { texts: ['fine'] })).isError).toBeFalsy();
    const n = await requests();
    expect(n('broken-embedder', 'model_load_failed')).toBe(1);
    expect(n('paddleocr-v4', 'invalid_media') + n('paddleocr-v4', 'unsupported_media')).toBe(1);
    expect(n('none', 'unknown_model')).toBe(1);
    expect(n('no-such-model-xyz', 'unknown_model')).toBe(0);
    expect(n('all-minilm-l6-v2', 'ok')).toBe(1);
    const m = await h.app.deps.metrics.registry.getSingleMetric('model_requests_total')!.get();
    expect(m.values.find((v) => v.labels.model === 'all-minilm-l6-v2')?.labels.hardware).toBe('cpu');
  });
});
