/**
 * @module backends/onnx/tasks
 * What the raw onnxruntime backend serves, without importing onnxruntime (the worker pool and
 * the router read this to route a model before any runtime is loaded).
 */
import type { Device, Task } from '../../skills/schema.js';

/** Tasks the raw onnxruntime backend serves. */
export const ONNX_TASKS: readonly Task[] = ['ocr', 'text-detection', 'voice-activity-detection'];

/** Devices onnxruntime-node ships execution providers for, per platform. */
export function onnxDevices(): Device[] {
  if (process.platform === 'darwin') return ['coreml', 'webgpu', 'cpu'];
  if (process.platform === 'win32') return ['dml', 'webgpu', 'cpu'];
  return ['cuda', 'webgpu', 'cpu'];
}
