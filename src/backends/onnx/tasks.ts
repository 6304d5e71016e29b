/**
 * @module backends/onnx/tasks
 * What the raw onnxruntime backend serves and its reference settings, without importing
 * onnxruntime: the worker pool and the router route models by these tasks before any runtime is
 * loaded, and tools and benchmarks take their defaults from here.
 */
import type { Task } from '../../skills/schema.js';
import type { VadParams } from '../types.js';

/** Tasks the raw onnxruntime backend serves. */
export const ONNX_TASKS: readonly Task[] = ['ocr', 'text-detection', 'voice-activity-detection'];

/** Text detection settings. */
export interface DetParams {
  /** Longest side of the detector's input. */
  limitSide: number;
  /** Probability map threshold. */
  threshold: number;
  /** Minimum mean probability inside a box. */
  boxThreshold: number;
  /** How far boxes grow around the predicted text kernel. */
  unclipRatio: number;
}

/** PaddleOCR's reference detection defaults: limit 960, threshold 0.3, box 0.6, unclip 1.5. */
export const DET_DEFAULTS: DetParams = { limitSide: 960, threshold: 0.3, boxThreshold: 0.6, unclipRatio: 1.5 };

/**
 * Box growth before recognition. With PaddleOCR's detection default of 1.5, PP-OCRv4 rec drops
 * most spaces on the shipped fixtures (3 of 7 lines exact); with 2.0 all 7 are exact.
 */
export const OCR_UNCLIP_RATIO = 2;

/** Silero's reference segmentation settings (get_speech_timestamps). */
export const VAD_DEFAULTS: VadParams = { threshold: 0.5, negThreshold: 0.35, minSilenceMs: 100, minSpeechMs: 250, padMs: 30 };
