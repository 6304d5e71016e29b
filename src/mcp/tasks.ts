/**
 * @module mcp/tasks
 * MCP's tasks extension (`io.modelcontextprotocol/tasks`, 2026-07-28): a long tool call answered
 * at once with a task, which the client polls (`tasks/get`), cancels (`tasks/cancel`) and reads
 * the result from. The server decides: a call to a tool in {@link TASK_TOOLS} from a client that
 * declares the extension on the request becomes a task; everything else is answered as usual.
 *
 * Tasks live in this process, bound to the credential that created them (others are told the
 * task does not exist). Finished tasks are kept for `--task-ttl`; a client holds at most
 * `--max-tasks-per-client` (the oldest finished ones make room, and when all are running a new
 * one is refused as retryable), so memory stays bounded. The work runs under the task layer's
 * own deadline, not the request's, and a cancel aborts it as a client's cancellation would.
 */
import { randomUUID } from 'node:crypto';
import {
  CLIENT_CAPABILITIES_META_KEY,
  ProtocolError,
  ProtocolErrorCode,
  type CallToolResult,
  type McpServer,
} from '@modelcontextprotocol/server';
import { z } from 'zod';
import { ServerError, echo } from '../errors.js';
import type { ToolName } from '../config/config.js';

/** The extension's identifier. */
export const TASKS_EXTENSION = 'io.modelcontextprotocol/tasks';

/** Tools whose calls may take minutes: long audio, long outputs, downloads and loads, benchmarks. */
export const TASK_TOOLS: ReadonlySet<ToolName> = new Set<ToolName>([
  'transcribe',
  'generate',
  'load_model',
  'register_model',
  'benchmark_model',
]);

/** How often a client should poll. */
const POLL_INTERVAL_MS = 1000;

type Status = 'working' | 'completed' | 'failed' | 'cancelled';

interface TaskRecord {
  taskId: string;
  owner: string;
  status: Status;
  statusMessage?: string;
  createdAt: number;
  lastUpdatedAt: number;
  result?: CallToolResult;
  error?: { code: number; message: string };
  abort: AbortController;
}

/** Whether this request's client declared the tasks extension (2026-07-28 requests only). */
export function declaresTasks(envelope: unknown): boolean {
  const caps = (envelope as Record<string, { extensions?: Record<string, unknown> } | undefined> | undefined)?.[
    CLIENT_CAPABILITIES_META_KEY
  ];
  return caps?.extensions?.[TASKS_EXTENSION] !== undefined;
}

/** The tasks of this process. */
export class ToolTasks {
  private readonly tasks = new Map<string, TaskRecord>();

  constructor(private readonly o: { ttlMs: number; maxPerClient: number; now?: () => number }) {}

  private now(): number {
    return this.o.now?.() ?? Date.now();
  }

  /**
   * Starts `run` as a task of `owner` and returns its first state. `run` gets the task's abort
   * signal and a status line to update; its result (a tool result, error results included)
   * completes the task; a throw fails it.
   */
  start(owner: string, run: (signal: AbortSignal, status: (message: string) => void) => Promise<CallToolResult>): Record<string, unknown> {
    this.sweep();
    this.makeRoom(owner);
    const at = this.now();
    const rec: TaskRecord = {
      taskId: randomUUID(),
      owner,
      status: 'working',
      createdAt: at,
      lastUpdatedAt: at,
      abort: new AbortController(),
    };
    this.tasks.set(rec.taskId, rec);
    const touch = () => (rec.lastUpdatedAt = this.now());
    void run(rec.abort.signal, (message) => {
      if (rec.status !== 'working') return;
      rec.statusMessage = message.slice(0, 200);
      touch();
    }).then(
      (result) => {
        if (rec.status !== 'working') return;
        rec.status = rec.abort.signal.aborted ? 'cancelled' : 'completed';
        if (rec.status === 'completed') rec.result = result;
        delete rec.statusMessage;
        touch();
      },
      (e: unknown) => {
        if (rec.status !== 'working') return;
        rec.status = rec.abort.signal.aborted ? 'cancelled' : 'failed';
        rec.error = { code: ProtocolErrorCode.InternalError, message: (e as Error).message };
        touch();
      },
    );
    return this.view(rec);
  }

  /** The task as `tasks/get` shows it, or a JSON-RPC error when it is not `owner`'s or gone. */
  get(owner: string, taskId: string): Record<string, unknown> {
    return this.view(this.find(owner, taskId));
  }

  /** Asks the task to stop; its status becomes `cancelled` once its work stops. */
  cancel(owner: string, taskId: string): void {
    const rec = this.find(owner, taskId);
    if (rec.status !== 'working') return;
    rec.abort.abort(new ServerError('cancelled', 'the task was cancelled'));
    rec.status = 'cancelled';
    rec.statusMessage = 'cancelled by the client';
    rec.lastUpdatedAt = this.now();
  }

  /** Stops every running task (shutdown). */
  close(): void {
    for (const rec of this.tasks.values())
      if (rec.status === 'working') rec.abort.abort(new ServerError('shutting_down', 'the server is shutting down'));
    this.tasks.clear();
  }

  get size(): number {
    return this.tasks.size;
  }

  private find(owner: string, taskId: string): TaskRecord {
    this.sweep();
    const rec = this.tasks.get(taskId);
    // Another credential's task is answered as if it did not exist.
    if (!rec || rec.owner !== owner)
      throw new ProtocolError(
        ProtocolErrorCode.InvalidParams,
        `unknown task ${echo(taskId)} (finished tasks are kept for their ttlMs; each replica keeps its own)`,
      );
    return rec;
  }

  private view(rec: TaskRecord): Record<string, unknown> {
    return {
      taskId: rec.taskId,
      status: rec.status,
      ...(rec.statusMessage !== undefined ? { statusMessage: rec.statusMessage } : {}),
      createdAt: new Date(rec.createdAt).toISOString(),
      lastUpdatedAt: new Date(rec.lastUpdatedAt).toISOString(),
      ttlMs: this.o.ttlMs,
      pollIntervalMs: POLL_INTERVAL_MS,
      ...(rec.status === 'completed' ? { result: rec.result } : {}),
      ...(rec.status === 'failed' ? { error: rec.error } : {}),
    };
  }

  /** Drops tasks finished longer ago than the time to live (counted from creation, as the spec says). */
  private sweep(): void {
    const cut = this.now() - this.o.ttlMs;
    for (const [id, rec] of this.tasks) if (rec.status !== 'working' && rec.createdAt < cut) this.tasks.delete(id);
  }

  /** Frees a slot for `owner`: its oldest finished task goes, or the call is refused when all run. */
  private makeRoom(owner: string): void {
    const mine = [...this.tasks.values()].filter((t) => t.owner === owner);
    if (mine.length < this.o.maxPerClient) return;
    const done = mine.filter((t) => t.status !== 'working').sort((a, b) => a.lastUpdatedAt - b.lastUpdatedAt)[0];
    if (!done)
      throw new ServerError(
        'rate_limited',
        `this client has ${mine.length} tasks running (--max-tasks-per-client); wait for one to finish or cancel one`,
        { retryAfterMs: POLL_INTERVAL_MS },
      );
    this.tasks.delete(done.taskId);
  }
}

const TaskParams = z.object({ taskId: z.string().min(1).max(100), _meta: z.record(z.string(), z.unknown()).optional() }).passthrough();

/** Serves `tasks/get`, `tasks/cancel` and `tasks/update` on `server` for the caller `ownerOf` names. */
export function registerTaskMethods(
  server: McpServer,
  tasks: ToolTasks,
  ownerOf: (ctx: { http?: { authInfo?: { clientId?: string } } }) => string,
): void {
  server.server.setRequestHandler('tasks/get', { params: TaskParams }, async (params, ctx) => tasks.get(ownerOf(ctx), params.taskId));
  server.server.setRequestHandler('tasks/cancel', { params: TaskParams }, async (params, ctx) => {
    tasks.cancel(ownerOf(ctx), params.taskId);
    return {};
  });
  // No tool of ours asks for input while it runs, so there is never an outstanding request to answer.
  server.server.setRequestHandler('tasks/update', { params: TaskParams }, async (params, ctx) => {
    tasks.get(ownerOf(ctx), params.taskId);
    return {};
  });
}
