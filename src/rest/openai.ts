/**
 * @module rest/openai
 * OpenAI-compatible routes under `/v1`: models, embeddings, chat completions, completions (both
 * streamed as server-sent events in OpenAI's chunk format), and audio transcriptions. Each is an
 * adapter over a task (embed, generate, transcribe): it maps OpenAI's request onto the task's
 * arguments and the task's result onto OpenAI's response, and nothing more.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { ServerError } from '../errors.js';
import { skillView } from '../tasks/views.js';
import { READ_SCOPE, requireScope } from '../tasks/scopes.js';
import { parseBody, runFor, skillName } from './common.js';
import { field, isMultipart, readForm } from './multipart.js';
import { errorReply, sendJson, sendText, type RestCall, type RestDeps, type RestRoute } from './route.js';
import { EventStream } from './sse.js';
import { subtitles } from './subtitles.js';

const nullish = <T extends z.ZodType>(t: T) => t.nullable().optional();

const TokenIds = z.array(z.number().int().min(0)).min(1);
export const EmbeddingsRequest = z.object({
  input: z
    .union([z.string(), z.array(z.string()).min(1), TokenIds, z.array(TokenIds).min(1)])
    .describe('Text, texts, token ids, or lists of token ids (of the model’s own tokenizer).'),
  model: z.string().optional().describe('Model: a skill name or its Hub id. Default: the default embedding model.'),
  encoding_format: z.enum(['float', 'base64']).default('float').describe('float arrays, or base64 of little-endian float32.'),
  dimensions: z.number().int().min(1).optional().describe('Keep the first N dimensions (renormalised).'),
  user: z.string().max(256).optional().describe('End-user id, for the audit log.'),
});

const ContentPart = z.object({ type: z.literal('text'), text: z.string() });
const Message = z.object({
  role: z.enum(['system', 'developer', 'user', 'assistant']),
  content: z.union([z.string(), z.array(ContentPart)]),
  name: z.string().optional(),
});

/** Options chat and plain completions share. */
const sampling = {
  model: z.string().optional().describe('Model: a skill name or its Hub id. Default: the default generation model.'),
  max_tokens: nullish(z.number().int().min(1)).describe('Tokens to generate at most (clamped to the server limit).'),
  temperature: nullish(z.number().min(0).max(2)).describe('0 is greedy; above 0 samples. Default 1.'),
  top_p: nullish(z.number().gt(0).max(1)),
  seed: nullish(z.number().int().min(0)),
  stop: nullish(z.union([z.string().min(1), z.array(z.string().min(1)).max(16)])),
  n: nullish(z.literal(1)).describe('Only 1 is supported.'),
  stream: nullish(z.boolean()),
  stream_options: nullish(z.object({ include_usage: z.boolean().optional() })),
  user: z.string().max(256).optional(),
};

/**
 * Only free text: JSON modes (json_object, json_schema) are refused before generating, since
 * nothing here constrains decoding, so the output could not be promised to parse, and a client
 * that parses it (the openai SDK's parse, LangChain's withStructuredOutput) would fail afterwards
 * and retry.
 */
export const ResponseFormat = z
  .object({ type: z.string() })
  .passthrough()
  .refine((f) => f.type === 'text', {
    message:
      'only {"type": "text"} is supported: JSON output (json_object, json_schema) is not constrained here, so it could not be guaranteed to parse',
  });

export const ChatRequest = z.object({
  messages: z.array(Message).min(1),
  max_completion_tokens: nullish(z.number().int().min(1)),
  tools: nullish(z.array(z.unknown()).max(0, 'tool calling is not supported')),
  response_format: nullish(ResponseFormat).describe('Only {"type": "text"}; JSON modes are refused with a 400.'),
  ...sampling,
});

export const CompletionRequest = z.object({
  prompt: z.union([z.string(), z.array(z.string()).length(1)]),
  ...sampling,
});

export const TranscriptionForm = z.object({
  file: z.string().describe('The audio file (WAV, MP3, Ogg Vorbis, FLAC).'),
  model: z.string().optional(),
  language: z.string().optional(),
  prompt: z.string().optional().describe('Accepted for compatibility; not used.'),
  response_format: z.enum(['json', 'text', 'verbose_json', 'srt', 'vtt']).default('json'),
  'timestamp_granularities[]': z.array(z.enum(['segment'])).optional(),
  temperature: z.number().optional().describe('Accepted for compatibility; decoding is greedy.'),
});

const Usage = z.object({ prompt_tokens: z.number(), completion_tokens: z.number().optional(), total_tokens: z.number() });
const ModelObject = z.object({ id: z.string(), object: z.literal('model'), created: z.number(), owned_by: z.string() });

export const GENERATE = ['text-generation', 'text2text-generation'] as const;

export interface GenerateResult {
  model: string;
  text: string;
  finish_reason: string;
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}

/** OpenAI has two finish reasons for a finished text: it ended (`stop`) or ran out of tokens (`length`). */
const finishReason = (r: string) => (r === 'length' || r === 'max_time' ? 'length' : 'stop');

/** The generate task's arguments from OpenAI's sampling options. */
export function generateArgs(deps: RestDeps, b: Partial<z.infer<z.ZodObject<typeof sampling>>>, maxTokens: number | null | undefined) {
  const greedy = b.temperature === 0;
  return {
    model: skillName(deps, b.model, GENERATE),
    max_new_tokens: maxTokens ? Math.min(maxTokens, deps.config.limits.maxNewTokens) : undefined,
    do_sample: !greedy,
    ...(greedy ? {} : { temperature: b.temperature ?? 1, top_p: b.top_p ?? 1 }),
    seed: b.seed,
    stop: b.stop === undefined || b.stop === null ? undefined : typeof b.stop === 'string' ? [b.stop] : b.stop,
  };
}

/** How one kind of completion (chat or plain) shapes its answers; the envelope is shared. */
interface CompletionKind {
  idPrefix: string;
  /** `object` of a streamed chunk and of the whole answer. */
  chunkObject: string;
  wholeObject: string;
  /** A streamed choice's own fields for a piece of text (or for the final, empty piece). */
  delta(text: string | undefined): Record<string, unknown>;
  /** The whole answer's choice fields. */
  answer(text: string): Record<string, unknown>;
  /** The first event's choice fields, when the kind opens its stream with one (chat: the role). */
  opening?: Record<string, unknown>;
}

const CHAT: CompletionKind = {
  idPrefix: 'chatcmpl',
  chunkObject: 'chat.completion.chunk',
  wholeObject: 'chat.completion',
  delta: (text) => ({ delta: text !== undefined ? { content: text } : {} }),
  answer: (text) => ({ message: { role: 'assistant', content: text } }),
  opening: { delta: { role: 'assistant', content: '' } },
};

const TEXT: CompletionKind = {
  idPrefix: 'cmpl',
  chunkObject: 'text_completion',
  wholeObject: 'text_completion',
  delta: (text) => ({ text: text ?? '' }),
  answer: (text) => ({ text }),
};

/**
 * Runs a completion of `kind`, streamed (server-sent events in OpenAI's chunk format, ending with
 * `[DONE]`, a usage chunk on request) or whole.
 */
async function complete(
  deps: RestDeps,
  call: RestCall,
  kind: CompletionKind,
  args: Record<string, unknown>,
  stream: { on: boolean; usage: boolean },
): Promise<void> {
  const id = `${kind.idPrefix}-${randomUUID()}`;
  const created = Math.floor(Date.now() / 1000);
  const choice = (fields: Record<string, unknown>, finish: string | null) => ({
    index: 0,
    ...fields,
    logprobs: null,
    finish_reason: finish,
  });
  if (!stream.on) {
    const out = (await runFor(deps, call, 'generate', args)) as unknown as GenerateResult;
    sendJson(call.res, 200, {
      id,
      object: kind.wholeObject,
      created,
      model: out.model,
      choices: [choice(kind.answer(out.text), finishReason(out.finish_reason))],
      usage: out.usage,
    });
    return;
  }
  // Chunks sent before the task answers name the model the call will use.
  const model = String(args.model ?? taskDefault(deps));
  const event = (choices: unknown[]) => ({ id, object: kind.chunkObject, created, model, choices });
  const events = new EventStream(call.res);
  const start = () => {
    if (!events.open && kind.opening) events.send(event([choice(kind.opening, null)]));
  };
  const piece = (text: string) => {
    start();
    events.send(event([choice(kind.delta(text), null)]));
  };
  try {
    const out = (await runFor(deps, call, 'generate', args, { stream: piece })) as unknown as GenerateResult;
    // A cached answer arrives whole: it goes out as one piece.
    if (!events.open && out.text) piece(out.text);
    start();
    events.send(event([choice(kind.delta(undefined), finishReason(out.finish_reason))]));
    if (stream.usage) events.send({ ...event([]), usage: out.usage });
    events.send('[DONE]');
    events.end();
  } catch (e) {
    if (!events.open) throw e;
    // Mid-stream, the status is already sent: the error goes out as an event, as OpenAI does.
    events.send(errorReply('openai', e).body);
    events.end();
  }
}

export function openaiRoutes(deps: RestDeps): RestRoute[] {
  const created = Math.floor(Date.now() / 1000);
  const modelObject = (name: string) => ({ id: name, object: 'model' as const, created, owned_by: 'hf-model-server' });
  return [
    {
      method: 'GET',
      path: '/v1/models',
      style: 'openai',
      doc: {
        summary: 'List models (every skill, with its tasks)',
        tag: 'OpenAI',
        response: z.object({ object: z.literal('list'), data: z.array(ModelObject) }),
      },
      handle: async (call) => {
        requireScope(call.auth, READ_SCOPE);
        const data = deps.registry.skills.map((s) => ({
          ...modelObject(s.skill.name),
          tasks: s.skill.tasks,
          hub_id: s.skill.model.id,
          status: deps.loader.status(s.skill.name).status,
        }));
        sendJson(call.res, 200, { object: 'list', data });
      },
    },
    {
      method: 'GET',
      path: '/v1/models/{model}',
      style: 'openai',
      doc: { summary: 'One model, with its manifest and status', tag: 'OpenAI', response: ModelObject },
      handle: async (call) => {
        requireScope(call.auth, READ_SCOPE);
        const name = call.params.model!;
        const view = skillView(
          deps,
          skillName(
            deps,
            name,
            deps.registry.skills.flatMap((s) => s.skill.tasks),
          ) ?? name,
        );
        if (!view) throw new ServerError('unknown_model', `unknown model "${name.slice(0, 120)}"`, { details: { field: 'model' } });
        const { name: id, ...rest } = view;
        sendJson(call.res, 200, { ...modelObject(id), ...rest });
      },
    },
    {
      method: 'POST',
      path: '/v1/embeddings',
      style: 'openai',
      doc: {
        summary: 'Create embeddings',
        tag: 'OpenAI',
        body: EmbeddingsRequest,
        response: z.object({
          object: z.literal('list'),
          data: z.array(
            z.object({ object: z.literal('embedding'), index: z.number(), embedding: z.union([z.array(z.number()), z.string()]) }),
          ),
          model: z.string(),
          usage: Usage,
        }),
      },
      handle: async (call) => {
        const b = parseBody(EmbeddingsRequest, await call.json());
        const input = typeof b.input === 'string' ? [b.input] : b.input;
        const ids = typeof input[0] === 'number' ? [input as number[]] : Array.isArray(input[0]) ? (input as number[][]) : undefined;
        const out = await runFor(deps, call, 'embed', {
          ...(ids ? { token_ids: ids } : { texts: input as string[] }),
          model: skillName(deps, b.model, ['feature-extraction']),
          dimensions: b.dimensions,
          encoding: b.encoding_format,
        });
        const embeddings = out.embeddings as Array<number[] | string>;
        sendJson(call.res, 200, {
          object: 'list',
          data: embeddings.map((embedding, index) => ({ object: 'embedding', index, embedding })),
          model: out.model,
          usage: out.usage,
        });
      },
    },
    {
      method: 'POST',
      path: '/v1/chat/completions',
      style: 'openai',
      doc: {
        summary: 'Chat completion (stream: true for server-sent events)',
        tag: 'OpenAI',
        body: ChatRequest,
        alsoProduces: ['text/event-stream'],
        response: z.object({
          id: z.string(),
          object: z.literal('chat.completion'),
          created: z.number(),
          model: z.string(),
          choices: z.array(
            z.object({
              index: z.number(),
              message: z.object({ role: z.literal('assistant'), content: z.string() }),
              finish_reason: z.enum(['stop', 'length']),
            }),
          ),
          usage: Usage,
        }),
      },
      handle: async (call) => {
        const b = parseBody(ChatRequest, await call.json());
        const messages = b.messages.map((m) => ({
          role: m.role === 'developer' ? 'system' : m.role,
          content: typeof m.content === 'string' ? m.content : m.content.map((p) => p.text).join(''),
        }));
        const args = { ...generateArgs(deps, b, b.max_completion_tokens ?? b.max_tokens), messages };
        await complete(deps, call, CHAT, args, { on: b.stream === true, usage: b.stream_options?.include_usage === true });
      },
    },
    {
      method: 'POST',
      path: '/v1/completions',
      style: 'openai',
      doc: {
        summary: 'Text completion of a plain prompt (stream: true for server-sent events)',
        tag: 'OpenAI',
        body: CompletionRequest,
        alsoProduces: ['text/event-stream'],
        response: z.object({
          id: z.string(),
          object: z.literal('text_completion'),
          created: z.number(),
          model: z.string(),
          choices: z.array(z.object({ index: z.number(), text: z.string(), finish_reason: z.enum(['stop', 'length']) })),
          usage: Usage,
        }),
      },
      handle: async (call) => {
        const b = parseBody(CompletionRequest, await call.json());
        const args = { ...generateArgs(deps, b, b.max_tokens), prompt: typeof b.prompt === 'string' ? b.prompt : b.prompt[0] };
        await complete(deps, call, TEXT, args, { on: b.stream === true, usage: b.stream_options?.include_usage === true });
      },
    },
    {
      method: 'POST',
      path: '/v1/audio/transcriptions',
      style: 'openai',
      doc: {
        summary: 'Transcribe an audio file (multipart upload)',
        tag: 'OpenAI',
        multipart: TranscriptionForm,
        alsoProduces: ['text/plain'],
        response: z.object({ text: z.string() }),
      },
      handle: async (call) => {
        if (!isMultipart(call.req)) throw new ServerError('invalid_input', 'send the audio as multipart/form-data with a `file` field');
        const form = await readForm(call.req, {
          bodyBytes: deps.config.maxBodyBytes,
          fileBytes: deps.config.media.maxBytes,
          fieldBytes: 64 * 1024,
        });
        const file = form.files.get('file');
        if (!file) throw new ServerError('invalid_input', 'the form has no `file`', { details: { field: 'file' } });
        const format = parseBody(TranscriptionForm.shape.response_format, field(form, 'response_format') ?? 'json');
        const granularities = form.fields.get('timestamp_granularities[]') ?? form.fields.get('timestamp_granularities') ?? [];
        if (granularities.some((g) => g !== 'segment'))
          throw new ServerError('invalid_input', 'timestamp_granularities supports only "segment"', {
            details: { field: 'timestamp_granularities' },
          });
        const language = field(form, 'language');
        const out = (await runFor(deps, call, 'transcribe', {
          audio_base64: file.bytes.toString('base64'),
          model: skillName(deps, field(form, 'model'), ['automatic-speech-recognition']),
          language: language || undefined,
          timestamps: format !== 'json' && format !== 'text',
        })) as { text: string; duration: number; segments: Array<{ text: string; start: number | null; end: number | null }> };
        const text = out.text.trim();
        if (format === 'text') return sendText(call.res, 200, text);
        if (format === 'srt' || format === 'vtt') return sendText(call.res, 200, subtitles(out.segments, format, out.duration));
        if (format === 'json') return sendJson(call.res, 200, { text });
        sendJson(call.res, 200, {
          task: 'transcribe',
          language: language ?? 'unknown',
          duration: out.duration,
          text,
          segments: out.segments.map((s, id) => ({
            id,
            start: s.start ?? 0,
            end: s.end ?? out.duration,
            text: s.text,
          })),
        });
      },
    },
  ];
}

/** The default generation model's name (for stream chunks sent before the task answers). */
export function taskDefault(deps: RestDeps): string {
  return deps.registry.forTask('text-generation')[0]?.skill.name ?? deps.registry.forTask('text2text-generation')[0]?.skill.name ?? '';
}
