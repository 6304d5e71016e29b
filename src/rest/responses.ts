/**
 * @module rest/responses
 * OpenAI's Responses API (`POST /v1/responses`) for text generation: what the AI SDK's default
 * OpenAI provider and OpenAI's current documentation call. Input is a string or a list of
 * messages, `instructions` become a system message; the answer is one assistant message with
 * one `output_text` part, with usage. Streaming sends the documented typed events, from
 * `response.created` to `response.completed`. Tools and JSON output formats are refused before
 * anything is generated. An adapter over the generate task, like the chat route.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { errorReply, sendJson, type RestCall, type RestDeps, type RestRoute } from './route.js';
import { runFor, parseBody } from './common.js';
import { EventStream } from './sse.js';
import { generateArgs, taskDefault, type GenerateResult } from './openai.js';

const nullish = <T extends z.ZodType>(t: T) => t.nullable().optional();

const InputPart = z
  .object({ type: z.enum(['input_text', 'output_text', 'text']), text: z.string() })
  .passthrough()
  .describe('Text parts only: images and files are not accepted here.');
const InputMessage = z.object({
  type: z.literal('message').optional(),
  role: z.enum(['system', 'developer', 'user', 'assistant']),
  content: z.union([z.string(), z.array(InputPart).min(1)]),
});

export const ResponsesRequest = z.object({
  model: z.string().optional().describe('Model: a skill name or its Hub id. Default: the default generation model.'),
  input: z.union([z.string(), z.array(InputMessage).min(1)]).describe('A prompt, or messages (text parts only).'),
  instructions: nullish(z.string()).describe('A system message put before the input.'),
  max_output_tokens: nullish(z.number().int().min(1)).describe('Tokens to generate at most (clamped to the server limit).'),
  temperature: nullish(z.number().min(0).max(2)),
  top_p: nullish(z.number().gt(0).max(1)),
  stream: nullish(z.boolean()),
  tools: nullish(z.array(z.unknown()).max(0, 'tool calling is not supported')),
  tool_choice: nullish(z.union([z.literal('none'), z.literal('auto')])),
  text: nullish(
    z.object({
      format: nullish(
        z
          .object({ type: z.string() })
          .passthrough()
          .refine((f) => f.type === 'text', {
            message: 'only {"type": "text"} is supported: JSON output is not constrained here, so it could not be guaranteed to parse',
          }),
      ),
    }),
  ),
  store: nullish(z.boolean()).describe('Accepted; nothing is stored.'),
  metadata: nullish(z.record(z.string(), z.string())),
  user: z.string().max(256).optional(),
});

type Req = z.infer<typeof ResponsesRequest>;

const textOf = (c: string | Array<{ text: string }>) => (typeof c === 'string' ? c : c.map((p) => p.text).join(''));

/** The chat messages the generate task reads: instructions first, developer as system. */
function messagesOf(b: Req): Array<{ role: string; content: string }> | undefined {
  if (typeof b.input === 'string' && !b.instructions) return undefined;
  const input = typeof b.input === 'string' ? [{ role: 'user' as const, content: b.input }] : b.input;
  return [
    ...(b.instructions ? [{ role: 'system', content: b.instructions }] : []),
    ...input.map((m) => ({ role: m.role === 'developer' ? 'system' : m.role, content: textOf(m.content) })),
  ];
}

/** The response object, in progress (no output yet) or finished. */
function responseObject(
  id: string,
  createdAt: number,
  b: Req,
  model: string,
  done?: { messageId: string; out: GenerateResult },
): Record<string, unknown> {
  const cut = done && (done.out.finish_reason === 'length' || done.out.finish_reason === 'max_time');
  return {
    id,
    object: 'response',
    created_at: createdAt,
    status: done ? (cut ? 'incomplete' : 'completed') : 'in_progress',
    error: null,
    incomplete_details: cut ? { reason: 'max_output_tokens' } : null,
    instructions: b.instructions ?? null,
    max_output_tokens: b.max_output_tokens ?? null,
    model,
    output: done ? [messageItem(done.messageId, done.out.text, 'completed')] : [],
    parallel_tool_calls: false,
    previous_response_id: null,
    temperature: b.temperature ?? 1,
    top_p: b.top_p ?? 1,
    text: { format: { type: 'text' } },
    tool_choice: 'none',
    tools: [],
    truncation: 'disabled',
    usage: done
      ? {
          input_tokens: done.out.usage.prompt_tokens,
          input_tokens_details: { cached_tokens: 0 },
          output_tokens: done.out.usage.completion_tokens,
          output_tokens_details: { reasoning_tokens: 0 },
          total_tokens: done.out.usage.total_tokens,
        }
      : null,
    metadata: b.metadata ?? {},
  };
}

const part = (text: string) => ({ type: 'output_text', text, annotations: [] });
const messageItem = (id: string, text: string | undefined, status: string) => ({
  type: 'message',
  id,
  status,
  role: 'assistant',
  content: text === undefined ? [] : [part(text)],
});

/** Runs a response, streamed as typed events or whole. */
async function respond(deps: RestDeps, call: RestCall, b: Req): Promise<void> {
  const id = `resp_${randomUUID().replace(/-/g, '')}`;
  const messageId = `msg_${randomUUID().replace(/-/g, '')}`;
  const createdAt = Math.floor(Date.now() / 1000);
  const messages = messagesOf(b);
  const args = {
    ...generateArgs(deps, { model: b.model, temperature: b.temperature, top_p: b.top_p }, b.max_output_tokens),
    ...(messages ? { messages } : { prompt: b.input as string }),
  };
  if (!b.stream) {
    const out = (await runFor(deps, call, 'generate', args)) as unknown as GenerateResult;
    sendJson(call.res, 200, responseObject(id, createdAt, b, out.model, { messageId, out }));
    return;
  }
  const model = String(args.model ?? taskDefault(deps));
  const events = new EventStream(call.res);
  let seq = 0;
  const emit = (type: string, fields: Record<string, unknown>) => events.send({ type, sequence_number: seq++, ...fields }, type);
  let text = '';
  const open = () => {
    if (events.open) return;
    const inProgress = responseObject(id, createdAt, b, model);
    emit('response.created', { response: inProgress });
    emit('response.in_progress', { response: inProgress });
    emit('response.output_item.added', { output_index: 0, item: messageItem(messageId, undefined, 'in_progress') });
    emit('response.content_part.added', { item_id: messageId, output_index: 0, content_index: 0, part: part('') });
  };
  const delta = (piece: string) => {
    open();
    text += piece;
    emit('response.output_text.delta', { item_id: messageId, output_index: 0, content_index: 0, delta: piece, logprobs: [] });
  };
  try {
    const out = (await runFor(deps, call, 'generate', args, { stream: delta })) as unknown as GenerateResult;
    // A cached answer arrives whole: it goes out as one delta.
    if (text === '' && out.text) delta(out.text);
    open();
    emit('response.output_text.done', { item_id: messageId, output_index: 0, content_index: 0, text: out.text, logprobs: [] });
    emit('response.content_part.done', { item_id: messageId, output_index: 0, content_index: 0, part: part(out.text) });
    emit('response.output_item.done', { output_index: 0, item: messageItem(messageId, out.text, 'completed') });
    const finished = responseObject(id, createdAt, b, out.model, { messageId, out });
    emit(finished.status === 'incomplete' ? 'response.incomplete' : 'response.completed', { response: finished });
    events.end();
  } catch (e) {
    if (!events.open) throw e;
    // Mid-stream, the status is already sent: the error goes out as an event, as OpenAI does.
    const body = errorReply('openai', e).body as { error: { message: string; code: string } };
    emit('error', { code: body.error.code, message: body.error.message, param: null });
    events.end();
  }
}

export function responsesRoutes(deps: RestDeps): RestRoute[] {
  return [
    {
      method: 'POST',
      path: '/v1/responses',
      style: 'openai',
      doc: {
        summary: 'Create a model response (OpenAI Responses API; stream: true for typed server-sent events)',
        tag: 'OpenAI',
        body: ResponsesRequest,
        alsoProduces: ['text/event-stream'],
        response: z.object({
          id: z.string(),
          object: z.literal('response'),
          status: z.enum(['completed', 'incomplete']),
          model: z.string(),
          output: z.array(
            z.object({
              type: z.literal('message'),
              role: z.literal('assistant'),
              content: z.array(z.object({ type: z.literal('output_text'), text: z.string() })),
            }),
          ),
          usage: z.object({ input_tokens: z.number(), output_tokens: z.number(), total_tokens: z.number() }),
        }),
      },
      handle: async (call) => respond(deps, call, parseBody(ResponsesRequest, await call.json())),
    },
  ];
}
