/**
 * @module rest/native
 * The task routes: `POST /v1/{task}` for every enabled task (embed, similarity, classify,
 * generate, detect, ocr, transcribe, detect_speech, and the admin tasks), taking the same JSON
 * as the MCP tool's arguments and answering its `structuredContent`; `POST /v1/infer/{model}`,
 * which picks the task from the model's skill; and `GET /v1/hardware`. Media go in as base64, a
 * data: URI, or a multipart upload (a file part named `image` or `audio`).
 */
import { z } from 'zod';
import type { ToolName } from '../config/config.js';
import { ServerError, echo } from '../errors.js';
import type { Task } from '../skills/schema.js';
import { READ_SCOPE, requireScope } from '../tasks/scopes.js';
import { hardwareView } from '../tasks/views.js';
import type { AnyTask } from '../tasks/task.js';
import { runFor } from './common.js';
import { isMultipart, readForm } from './multipart.js';
import { sendJson, type RestCall, type RestDeps, type RestRoute } from './route.js';

/** The task that serves a skill task, for `/v1/infer/{model}`. */
const TASK_ROUTE: Record<Task, ToolName> = {
  'feature-extraction': 'embed',
  'text-classification': 'classify',
  'text-ranking': 'rerank',
  'zero-shot-classification': 'classify',
  'token-classification': 'extract_entities',
  'image-classification': 'classify',
  'zero-shot-image-classification': 'classify',
  'text-generation': 'generate',
  'text2text-generation': 'generate',
  'object-detection': 'detect',
  'text-detection': 'detect',
  ocr: 'ocr',
  'automatic-speech-recognition': 'transcribe',
  'image-to-text': 'caption',
  'voice-activity-detection': 'detect_speech',
};

/**
 * A request's arguments: the JSON body, or a multipart form whose text fields are JSON values
 * (or plain strings) and whose `image` / `audio` file parts become `image_base64` / `audio_base64`.
 */
async function argsOf(deps: RestDeps, call: RestCall): Promise<Record<string, unknown>> {
  if (!isMultipart(call.req)) {
    const body = await call.json();
    if (body === null || typeof body !== 'object' || Array.isArray(body))
      throw new ServerError('invalid_input', 'the body must be a JSON object of the task’s arguments');
    return body as Record<string, unknown>;
  }
  const form = await readForm(call.req, {
    bodyBytes: deps.config.maxBodyBytes,
    fileBytes: deps.config.media.maxBytes,
    fieldBytes: deps.config.maxBodyBytes,
  });
  const args: Record<string, unknown> = {};
  for (const [name, values] of form.fields) {
    const parse = (v: string) => {
      try {
        return JSON.parse(v) as unknown;
      } catch {
        return v;
      }
    };
    args[name] = values.length > 1 ? values.map(parse) : parse(values[0]!);
  }
  for (const [name, file] of form.files) {
    if (name !== 'image' && name !== 'audio')
      throw new ServerError('invalid_input', `unexpected file part ${echo(name)}; use image or audio`);
    args[`${name}_base64`] = file.bytes.toString('base64');
  }
  return args;
}

const docOf = (task: AnyTask) => ({
  summary: task.title,
  tag: 'Tasks',
  body: z.object(task.inputSchema),
  response: z.object(task.outputSchema),
});

export function nativeRoutes(deps: RestDeps): RestRoute[] {
  // A route per enabled tool, even one with no model yet: skills added while the server runs
  // (hot reload) bring their tool's route to life. Only tools with a model at start are described.
  const routes: RestRoute[] = deps.config.tools.map((name) => {
    const task = deps.tasks.get(name);
    return {
      method: 'POST' as const,
      path: `/v1/${name}`,
      style: 'openai' as const,
      doc: task ? docOf(task) : { summary: name, tag: 'Tasks', hidden: true },
      handle: async (call: RestCall) => sendJson(call.res, 200, await runFor(deps, call, name, await argsOf(deps, call))),
    };
  });
  routes.push(
    {
      method: 'POST',
      path: '/v1/infer/{model}',
      style: 'openai',
      doc: { summary: "Run a model on its skill's task (arguments as for that task's route)", tag: 'Tasks' },
      handle: async (call) => {
        const name = call.params.model!;
        const reg = deps.registry.get(name);
        if (!reg) throw new ServerError('unknown_model', `unknown model ${echo(name)}`);
        const tool = reg.skill.tasks.map((t) => TASK_ROUTE[t]).find((t) => deps.tasks.has(t));
        if (!tool) throw new ServerError('unsupported_task', `no enabled task serves ${echo(name)} (${reg.skill.tasks.join(', ')})`);
        const args = await argsOf(deps, call);
        sendJson(call.res, 200, await runFor(deps, call, tool, { ...args, model: name }));
      },
    },
    {
      method: 'GET',
      path: '/v1/hardware',
      style: 'openai',
      doc: { summary: 'CPU, memory, GPUs, and the devices onnxruntime can use here', tag: 'Server' },
      handle: async (call) => {
        requireScope(call.auth, READ_SCOPE);
        sendJson(call.res, 200, await hardwareView(deps));
      },
    },
  );
  return routes;
}
