/**
 * @module backends/onnx/backend
 * The raw onnxruntime-node backend, for models that are not transformers.js folders: PaddleOCR
 * (text detection and OCR) and Silero VAD. With backends/transformers*.ts it is the only code
 * that imports onnxruntime-node. A skill names its files by role (`model.files`).
 */
import type { Device } from '../../skills/schema.js';
import { probeDevice, type DeviceProbe } from '../device-probe.js';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { ServerError } from '../../errors.js';
import { makeHandle, type TaskHandlers } from '../handle.js';
import type { Backend, LoadRequest, ModelHandle } from '../types.js';
import { platformDevices } from '../transformers-tasks.js';
import { detectText, recCharset, recognize, type PaddleSessions } from './paddle-ocr.js';
import { detectSpeech } from './silero-vad.js';
import { DET_DEFAULTS, ONNX_TASKS } from './tasks.js';
import { sessionOptions } from '../session-options.js';

/** Creates one session; missing files and bad graphs map to catalogued errors. */
async function session(req: LoadRequest, role: string): Promise<ort.InferenceSession> {
  const name = req.files?.[role];
  if (!name) throw new ServerError('model_load_failed', `skill for ${req.source} names no "${role}" file (model.files.${role})`);
  const path = join(req.source, name);
  if (!existsSync(path)) throw new ServerError('model_not_found', `model file ${path} does not exist`);
  req.onProgress?.({ phase: 'session', file: name });
  try {
    return await ort.InferenceSession.create(path, {
      executionProviders: [req.device],
      graphOptimizationLevel: 'all',
      ...sessionOptions(req.threads),
    });
  } catch (e) {
    throw new ServerError('model_load_failed', `could not load ${path} on ${req.device}: ${(e as Error).message.split('\n')[0]}`, {
      cause: e,
    });
  }
}

async function loadOcr(req: LoadRequest): Promise<{ handlers: TaskHandlers; sessions: ort.InferenceSession[] }> {
  const keys = req.files?.keys;
  if (!keys) throw new ServerError('model_load_failed', `skill for ${req.source} names no "keys" file (model.files.keys)`);
  const keysPath = join(req.source, keys);
  if (!existsSync(keysPath)) throw new ServerError('model_not_found', `dictionary ${keysPath} does not exist`);
  const s: PaddleSessions = {
    det: await session(req, 'det'),
    rec: await session(req, 'rec'),
    cls: req.files?.cls ? await session(req, 'cls') : undefined,
    chars: recCharset(readFileSync(keysPath, 'utf8')),
  };
  const handlers: TaskHandlers = {
    'text-detection': (input) =>
      detectText(ort, s, input.image, {
        limitSide: DET_DEFAULTS.limitSide,
        threshold: input.threshold,
        boxThreshold: input.boxThreshold,
        unclipRatio: input.unclipRatio,
      }),
    ocr: (input) =>
      recognize(ort, s, input.image, {
        ...DET_DEFAULTS,
        boxThreshold: input.boxThreshold,
        unclipRatio: input.unclipRatio,
        orientation: input.orientation,
        minConfidence: input.minConfidence,
      }),
  };
  return { handlers, sessions: [s.det, s.rec, ...(s.cls ? [s.cls] : [])] };
}

async function loadVad(req: LoadRequest): Promise<{ handlers: TaskHandlers; sessions: ort.InferenceSession[] }> {
  const s = await session(req, 'model');
  const handlers: TaskHandlers = {
    'voice-activity-detection': (input) => detectSpeech(ort, s, input.audio.samples, input.vad, input.signal),
  };
  return { handlers, sessions: [s] };
}

/** The raw onnxruntime backend. */
export class OnnxBackend implements Backend {
  readonly name = 'onnxruntime-node';
  readonly tasks = ONNX_TASKS;
  /** onnxruntime-node's execution providers here (the same list transformers.js exposes). */
  readonly devices = platformDevices();

  /** A real session on `device` (backends/device-probe.ts). */
  probe(device: Device): Promise<DeviceProbe> {
    return probeDevice(device);
  }

  async load(req: LoadRequest): Promise<ModelHandle> {
    if (!ONNX_TASKS.includes(req.task)) throw new ServerError('unsupported_task', `the onnxruntime backend does not serve ${req.task}`);
    const loaded = req.task === 'voice-activity-detection' ? await loadVad(req) : await loadOcr(req);
    req.onProgress?.({ phase: 'ready', progress: 100 });
    return makeHandle({
      source: req.source,
      task: req.task,
      device: req.device,
      dtype: 'fp32',
      handlers: loaded.handlers,
      release: async () => {
        await Promise.all(loaded.sessions.map((x) => x.release()));
      },
    });
  }
}
