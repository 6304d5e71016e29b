/**
 * A device counts as usable only once a real session has run on it: the probe (a tiny graph run
 * once on the device alone) succeeds on cpu and fails, with the provider's reason and a fix, on
 * WebGPU where no GPU adapter exists (this machine kind has none). Through the server, a load
 * forced onto such a device falls back to cpu, and hf://hardware reports the device as present
 * but not usable, with the reason.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { probeDevice } from '../../src/backends/device-probe.js';
import { startServer, type Harness } from '../helpers/server.js';

// Hosts with a GPU render node may have a working WebGPU adapter; the failure checks need none.
const noGpu = !existsSync('/dev/dri') && !existsSync('/dev/nvidia0');

let h: Harness | undefined;
afterAll(async () => h?.close());

describe('device probes', () => {
  it('cpu runs the probe graph', async () => {
    expect(await probeDevice('cpu')).toMatchObject({ ok: true });
  });

  it.skipIf(!noGpu)('WebGPU without an adapter: not usable, with the reason and the fix', async () => {
    const r = await probeDevice('webgpu');
    expect(r.ok).toBe(false);
    expect(r.reason).toMatch(/adapter/i);
    expect(r.fix).toMatch(/Vulkan/);
    expect(await probeDevice('rocm')).toMatchObject({ ok: false, reason: expect.stringMatching(/no rocm execution provider/) });
  });

  it.skipIf(!noGpu)('a load forced onto an unusable device falls back to cpu, and hf://hardware says why', async () => {
    h = await startServer({ device: 'webgpu' });
    const r = await h.call('embed', { texts: ['hello'] });
    expect(r.isError).toBeFalsy();
    expect(h.app.deps.loader.list().find((m) => m.model === 'all-minilm-l6-v2')?.device).toBe('cpu');
    const hw = JSON.parse(((await h.client.readResource({ uri: 'hf://hardware' })).contents[0] as { text: string }).text) as {
      runtime: { usable: string[]; verified: Record<string, { ok: boolean; reason?: string; fix?: string }> };
    };
    expect(hw.runtime.verified.webgpu).toMatchObject({ ok: false, reason: expect.stringMatching(/adapter/i) });
    expect(hw.runtime.verified.cpu).toMatchObject({ ok: true });
    expect(hw.runtime.usable).not.toContain('webgpu');
    expect(hw.runtime.usable).toContain('cpu');
  });
});
