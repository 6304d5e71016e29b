/**
 * Runs the backend contract against the real transformers.js backend (generated models) and
 * the fake backend used by runtime tests.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TransformersBackend } from '../../src/backends/transformers.js';
import { WorkerBackend } from '../../src/backends/worker.js';
import { fixture } from '../helpers/fixtures.js';
import { FakeBackend } from '../helpers/fake-backend.js';
import { backendContract } from './contract.js';

const base = { revision: 'main', device: 'cpu', threads: 1 } as const;

backendContract({
  name: 'transformers.js',
  make: () => new TransformersBackend({ offline: true, cacheDir: mkdtempSync(join(tmpdir(), 'hfms-cache-')), useFsCache: false }),
  embed: { ...base, source: fixture('bert'), task: 'feature-extraction' },
  classify: { ...base, source: fixture('classifier'), task: 'text-classification' },
  generate: { ...base, source: fixture('gpt2'), task: 'text-generation' },
});

backendContract({
  name: 'fake',
  make: () => new FakeBackend(),
  embed: { ...base, source: '/fake/embed', task: 'feature-extraction' },
  classify: { ...base, source: '/fake/classify', task: 'text-classification' },
  generate: { ...base, source: '/fake/gen', task: 'text-generation' },
});

backendContract({
  name: 'transformers.js in worker threads',
  make: () => new WorkerBackend({ offline: true, cacheDir: mkdtempSync(join(tmpdir(), 'hfms-cache-')), useFsCache: false }),
  embed: { ...base, source: fixture('bert'), task: 'feature-extraction' },
  classify: { ...base, source: fixture('classifier'), task: 'text-classification' },
  generate: { ...base, source: fixture('gpt2'), task: 'text-generation' },
});
