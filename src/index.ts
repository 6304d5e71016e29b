/**
 * @module index
 * The library API: the engine in-process, for a Node application that wants the registry,
 * loader, batcher and worker threads without a server process between them. `createEngine`
 * takes the CLI's options in camelCase; `engine.run(tool, args)` is exactly a tool call (the same
 * validation, limits, cache, deadline and errors: a ServerError with `code` and `retryable`);
 * the helpers name the common tools, and `generateStream` yields generated text as it comes.
 * `createMcpServer(engine)` and `createHttpApp(engine)` put the same engine behind MCP (any
 * transport) and behind the HTTP edge (listen, or mount in an existing server); the CLI is built
 * on them.
 */
import { createApp, type App } from './app.js';
import { configFromOptions, type Config, type ToolName } from './config/config.js';
import { ServerError } from './errors.js';
import { createServer, type CreatedServer } from './mcp/server.js';
import { parseArgs, runTask } from './tasks/task.js';
import { createHttpEdge, type HttpEdge } from './transports/http/server.js';
import { runStdio } from './transports/stdio.js';

export { ServerError, ERROR_CATALOG, type ErrorCode } from './errors.js';
export { TOOL_NAMES, type ToolName } from './config/config.js';

/** The CLI's options in camelCase (`--models-dir` is `modelsDir`, `--cache-size` is `cacheSize`...). */
export type EngineOptions = Record<string, unknown>;

/** Per-call options. */
export interface RunOptions {
  /** Aborting it cancels the call (queued work is dropped, generation stops). */
  signal?: AbortSignal;
  /** Status text as it comes: model load phases, and generated text pieces. */
  onProgress?: (message: string) => void;
  priority?: 'high' | 'normal' | 'low';
  /** A deadline shorter than --deadline, in ms. */
  timeoutMs?: number;
  /** With `model: "auto"`, models below the best quality tier may serve the call. */
  allowLowerQuality?: boolean;
}

/** What `embed` returns. */
export interface EmbedResult {
  model: string;
  dims: number;
  encoding: 'float' | 'base64';
  embeddings: Array<number[] | string | number[][]>;
  usage: { prompt_tokens: number; total_tokens: number };
}

/** What `generate` returns. */
export interface GenerateResult {
  model: string;
  text: string;
  finish_reason: string;
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
  token_ids?: number[];
}

/** Results ranked best first, as `similarity` and `rerank` return them. */
export interface RankResult {
  model: string;
  results: Array<{ index: number; score: number; document?: string }>;
  usage: { prompt_tokens: number; total_tokens: number };
}

export interface Engine {
  /** The engine's runtime, for the server entries below (not part of the stable API). */
  readonly [RUNTIME]: App;
  /** Runs a tool with its arguments and returns its structured result; throws ServerError. */
  run(tool: ToolName, args: Record<string, unknown>, options?: RunOptions): Promise<Record<string, unknown>>;
  embed(args: { texts?: string[]; image?: string; model?: string } & Record<string, unknown>, options?: RunOptions): Promise<EmbedResult>;
  similarity(args: { query: string; documents: string[] } & Record<string, unknown>, options?: RunOptions): Promise<RankResult>;
  rerank(args: { query: string; documents: string[] } & Record<string, unknown>, options?: RunOptions): Promise<RankResult>;
  classify(args: Record<string, unknown>, options?: RunOptions): Promise<Record<string, unknown>>;
  generate(
    args: { prompt?: string; messages?: Array<{ role: string; content: string }> } & Record<string, unknown>,
    options?: RunOptions,
  ): Promise<GenerateResult>;
  /** Generated text piece by piece; the loop ends when the generation does. */
  generateStream(
    args: { prompt?: string; messages?: Array<{ role: string; content: string }> } & Record<string, unknown>,
    options?: RunOptions,
  ): AsyncIterable<string>;
  /** Frees the models and the worker threads. */
  close(): Promise<void>;
}

/** Where an engine keeps its runtime (a symbol, so it stays out of the engine's visible API). */
const RUNTIME = Symbol('hf-model-server.runtime');

/** Builds the engine and resolves once the models named by `preload` are loaded. */
export async function createEngine(options: EngineOptions = {}): Promise<Engine> {
  return engineFromConfig(configFromOptions(options));
}

/**
 * The engine for an already parsed configuration (the CLI's path), over `app` when given; with
 * `ready: false` it resolves at once and the preloads go on in the background.
 */
export async function engineFromConfig(config: Config, o: { app?: App; ready?: boolean } = {}): Promise<Engine> {
  const app = o.app ?? createApp(config);
  if (o.ready !== false) await Promise.all(app.deps.config.preload.map((m) => app.deps.loader.load(m)));
  let closed = false;

  const run = async (tool: ToolName, args: Record<string, unknown>, o: RunOptions = {}, stream?: (piece: string) => void) => {
    if (closed) throw new ServerError('shutting_down', 'the engine is closed');
    const task = app.deps.tasks.get(tool);
    if (!task)
      throw new ServerError('unknown_tool', `unknown tool "${String(tool).slice(0, 80)}"; tools: ${[...app.deps.tasks.keys()].join(', ')}`);
    const progress = o.onProgress ? (message: string) => o.onProgress!(message) : undefined;
    return runTask(app.deps, task, parseArgs(task, args), {
      signal: o.signal ?? new AbortController().signal,
      priority: o.priority,
      timeoutMs: o.timeoutMs,
      allowLowerQuality: o.allowLowerQuality,
      progress,
      stream: stream ?? progress,
      client: 'library',
    });
  };

  return {
    [RUNTIME]: app,
    run: (tool, args, o) => run(tool, args, o),
    embed: async (args, o) => (await run('embed', args, o)) as unknown as EmbedResult,
    similarity: async (args, o) => (await run('similarity', args, o)) as unknown as RankResult,
    rerank: async (args, o) => (await run('rerank', args, o)) as unknown as RankResult,
    classify: (args, o) => run('classify', args, o),
    generate: async (args, o) => (await run('generate', args, o)) as unknown as GenerateResult,
    generateStream(args, o = {}) {
      return {
        async *[Symbol.asyncIterator]() {
          const pieces: string[] = [];
          let wake: (() => void) | undefined;
          let done = false;
          let failure: unknown;
          let streamed = false;
          const push = (p: string) => {
            streamed = true;
            pieces.push(p);
            wake?.();
          };
          const call = run('generate', args, o, push).then(
            (out) => {
              // A cached answer arrives whole: it comes out as one piece.
              if (!streamed && typeof out.text === 'string' && out.text) pieces.push(out.text);
            },
            (e: unknown) => (failure = e),
          );
          void call.finally(() => {
            done = true;
            wake?.();
          });
          for (;;) {
            if (pieces.length > 0) {
              yield pieces.shift()!;
              continue;
            }
            if (done) break;
            await new Promise<void>((r) => (wake = r));
            wake = undefined;
          }
          if (failure) throw failure;
        },
      };
    },
    close: async () => {
      if (closed) return;
      closed = true;
      await app.close();
    },
  };
}

/**
 * An MCP server over the engine, with every tool, resource and notification the CLI serves, to
 * connect to a transport of the caller's choice. `close()` stops it following skill changes.
 */
export function createMcpServer(engine: Engine): CreatedServer {
  return createServer(engine[RUNTIME].deps);
}

/** The HTTP edge over the engine (MCP at /mcp, REST, health, metrics, with every check). */
export type HttpApp = HttpEdge;

/** Builds the HTTP edge over the engine; nothing listens until `listen()`. */
export function createHttpApp(engine: Engine): HttpApp {
  return createHttpEdge(engine[RUNTIME]);
}

/** Serves MCP on this process's stdin and stdout; `onEnd` runs when the client closes stdin. */
export function serveStdio(engine: Engine, onEnd: () => void = () => undefined): Promise<{ close(): Promise<void> }> {
  return runStdio(engine[RUNTIME], onEnd);
}

export type { HttpServer } from './transports/http/server.js';
