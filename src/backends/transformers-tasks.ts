/**
 * @module backends/transformers-tasks
 * What the transformers.js backend serves, without importing transformers.js, so the worker
 * pool on the main thread can route models without loading the library there.
 */
import type { Device, Task } from '../skills/schema.js';

/** Vision and audio pipeline tasks (backends/transformers-media.ts). */
export const MEDIA_PIPELINE_TASKS = [
  'image-classification',
  'zero-shot-image-classification',
  'object-detection',
  'automatic-speech-recognition',
  'image-to-text',
] as const;

/** Tasks the transformers.js backend serves. */
export const TRANSFORMERS_TASKS: readonly Task[] = [
  'feature-extraction',
  'text-classification',
  'text-ranking',
  'zero-shot-classification',
  'token-classification',
  'text-generation',
  'text2text-generation',
  ...MEDIA_PIPELINE_TASKS,
];

/** transformers.js devices available on this platform (it supports cuda/webgpu/cpu on Linux). */
export function platformDevices(): Device[] {
  if (process.platform === 'darwin') return ['coreml', 'webgpu', 'cpu'];
  if (process.platform === 'win32') return ['dml', 'webgpu', 'cpu'];
  return ['cuda', 'webgpu', 'cpu'];
}
