/**
 * @module tasks
 * The task set: every task the configuration enables (`--tools`), built once from the registry.
 * A task whose models are all missing (no skill serves it) is left out.
 */
import type { ToolName } from '../config/config.js';
import { benchmarkModelTask } from './benchmark-model.js';
import { captionTask } from './caption.js';
import { classifyTask } from './classify.js';
import type { TaskDeps } from './deps.js';
import { detectTask } from './detect.js';
import { detectSpeechTask } from './detect-speech.js';
import { embedTask } from './embed.js';
import { extractEntitiesTask } from './extract-entities.js';
import { generateTask } from './generate.js';
import { loadModelTask } from './load-model.js';
import { ocrTask } from './ocr.js';
import { registerModelTask } from './register-model.js';
import { rerankTask } from './rerank.js';
import { similarityTask } from './similarity.js';
import type { AnyTask } from './task.js';
import { tokenizeTask } from './tokenize.js';
import { transcribeTask } from './transcribe.js';
import { unloadModelTask } from './unload-model.js';

const BUILDERS: Record<ToolName, (deps: TaskDeps) => AnyTask | undefined> = {
  embed: embedTask,
  similarity: similarityTask,
  rerank: rerankTask,
  classify: classifyTask,
  extract_entities: extractEntitiesTask,
  generate: generateTask,
  tokenize: tokenizeTask,
  detect: detectTask,
  ocr: ocrTask,
  transcribe: transcribeTask,
  detect_speech: detectSpeechTask,
  caption: captionTask,
  load_model: loadModelTask,
  unload_model: unloadModelTask,
  benchmark_model: benchmarkModelTask,
  register_model: registerModelTask,
};

/** The enabled tasks by name, in `--tools` order. */
export type TaskSet = ReadonlyMap<ToolName, AnyTask>;

export function buildTasks(deps: TaskDeps): TaskSet {
  const tasks = new Map<ToolName, AnyTask>();
  for (const name of deps.config.tools) {
    const task = BUILDERS[name](deps);
    if (task) tasks.set(name, task);
  }
  return tasks;
}
