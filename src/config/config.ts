/**
 * @module config
 * Configuration is parsed once from CLI flags and `HF_MODEL_SERVER_*` environment variables,
 * validated with zod, frozen, and passed to everything that needs it. No module reads
 * `process.env` or argv on its own.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { homedir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { LOG_LEVELS } from '../logger.js';
import { nearest } from './suggest.js';
import {
  ConfigError,
  ENV_PREFIX,
  bytes,
  cidr,
  duration,
  helpLines,
  int,
  keyFile,
  leaves,
  list,
  opt,
  parseArgsOptions,
  path,
  rawConfig,
  schemaOf,
  secretFile,
  type OptTree,
} from './options.js';

export { ConfigError } from './options.js';

/** Tool names the server can expose (`--tools` picks a subset). */
export const TOOL_NAMES = [
  'embed',
  'similarity',
  'rerank',
  'classify',
  'extract_entities',
  'generate',
  'tokenize',
  'detect',
  'ocr',
  'transcribe',
  'detect_speech',
  'caption',
  'load_model',
  'unload_model',
  'benchmark_model',
  'register_model',
] as const;
export type ToolName = (typeof TOOL_NAMES)[number];

/** A tool's pinned split for `model: "auto"`: model -> weight. */
export type RouteSplit = ReadonlyArray<{ model: string; weight: number }>;

/**
 * `--route` specs (`tool=model:weight,model:weight`, several separated by `;`) as each tool's
 * split: a known tool, model:weight arms with positive weights. The one parser of the syntax:
 * the option checks its text with it, and the app builds the router's splits with it.
 */
export function parseRoutes(specs: readonly string[], name = 'route'): Map<string, RouteSplit> {
  const out = new Map<string, RouteSplit>();
  for (const spec of specs.flatMap(routeParts)) {
    const m = /^([a-z_]+)\s*=\s*(.+)$/.exec(spec);
    if (!m) throw new ConfigError(`${name}: "${spec}" is not tool=model:weight,model:weight (e.g. embed=a:90,b:10)`);
    if (!(TOOL_NAMES as readonly string[]).includes(m[1]!))
      throw new ConfigError(`${name}: unknown tool "${m[1]}"; tools: ${TOOL_NAMES.join(', ')}`);
    const arms = m[2]!.split(',').map((part) => {
      const a = /^\s*([^:\s]+)\s*:\s*(\d+(?:\.\d+)?)\s*$/.exec(part);
      if (!a) throw new ConfigError(`${name}: "${spec}" is not tool=model:weight,model:weight (arm "${part.trim()}")`);
      if (Number(a[2]) <= 0) throw new ConfigError(`${name}: weights must be positive in "${spec}"`);
      return { model: a[1]!, weight: Number(a[2]) };
    });
    out.set(m[1]!, arms);
  }
  return out;
}

/** The `tool=...` specs in a `--route` text (`;`-separated). */
function routeParts(v: string): string[] {
  return v
    .split(';')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** `--route` text, checked by {@link parseRoutes} and kept as its specs. */
function routeSpecs(v: string, name: string): string[] {
  parseRoutes([v], name);
  return routeParts(v);
}

/** Devices a user may force with `--device`. */
export const DEVICE_NAMES = ['auto', 'cpu', 'cuda', 'webgpu', 'coreml', 'dml'] as const;

/**
 * Every option, declared once: its schema (type, range, default) and the flags and environment
 * variables that set it, with their help. The config schema, `parseArgs`, the environment
 * mapping and `--help` are all generated from this table (config/options.ts).
 */
const OPTIONS = {
  /** A JSON file of options, below flags and variables (see {@link optionsFile}). */
  configFile: opt(z.string().optional(), {
    flag: 'config',
    arg: 'FILE',
    help: 'read options from a JSON object keyed by option name in camelCase, e.g. {"modelsDir": "/models", "route": "embed=a:90,b:10"}; flags and variables win',
    read: path,
  }),
  transport: opt(z.enum(['stdio', 'http', 'both']).default('stdio'), {
    flag: 'transport',
    arg: 'T',
    help: 'stdio, http or both (default stdio; --port alone implies http)',
  }),
  /** HTTP bind address. */
  host: opt(z.string().default('127.0.0.1'), { flag: 'host', arg: 'H', help: 'HTTP bind address (default 127.0.0.1)' }),
  /** HTTP port (0 = any free port). */
  port: opt(z.number().int().min(0).max(65535).default(8080), { flag: 'port', arg: 'N', help: 'HTTP port (default 8080)', read: int }),
  /** TLS certificate chain and private key (PEM) for HTTPS; both or neither. */
  tlsCert: opt(z.string().optional(), {
    flag: 'tls-cert',
    arg: 'FILE',
    help: 'serve HTTPS with this PEM certificate chain (with --tls-key); reloaded on SIGHUP',
    read: path,
  }),
  tlsKey: opt(z.string().optional(), { flag: 'tls-key', arg: 'FILE', help: 'the PEM private key for --tls-cert', read: path }),
  /** The user's configuration folder; skills added with `add` live in its `skills/`. */
  configDir: opt(z.string().optional(), {
    flag: 'config-dir',
    arg: 'DIR',
    help: 'user configuration folder; `add` writes skills to its skills/ (default ~/.config/hf-model-server)',
    read: path,
  }),
  /** Stateless streamable HTTP (no sessions), for load-balanced replicas. */
  stateless: opt(z.boolean().default(false), { flag: 'stateless', help: 'stateless streamable HTTP, for load-balanced replicas' }),
  /** API keys (plaintext or `sha256:<hex>`); empty = no auth. */
  apiKeys: opt(
    z.array(z.string()).default([]),
    { env: 'API_KEYS', arg: 'KEYS', help: 'comma-separated API keys, plaintext or sha256:<hex>', read: list, concat: true },
    { flag: 'api-key-file', arg: 'FILE', help: 'API keys, one per line, plaintext or sha256:<hex>', read: keyFile, concat: true },
  ),
  /** HS256 secret for JWT bearer tokens. */
  jwtSecret: opt(
    z.string().min(16).optional(),
    {
      flag: 'jwt-secret-file',
      arg: 'FILE',
      help: 'verify HS256 JWT bearer tokens with the secret in FILE (kept out of ps)',
      read: secretFile,
    },
    { flag: 'jwt-secret', arg: 'S', help: 'the same secret given directly (visible in ps)' },
  ),
  /** Accept JWTs without an `exp` claim (they never expire). */
  jwtAllowNoExp: opt(z.boolean().default(false), { flag: 'jwt-allow-no-exp', help: 'accept JWTs without an exp claim (default: refused)' }),
  /** JWKS file (JSON) with public keys for JWT bearer tokens. */
  jwksFile: opt(z.string().optional(), {
    flag: 'jwks-file',
    arg: 'FILE',
    help: 'verify JWT bearer tokens with these public keys',
    read: path,
  }),
  /** Expected JWT issuer and audience, when set. */
  jwtIssuer: opt(z.string().optional(), { flag: 'jwt-issuer', arg: 'I', help: 'required iss claim' }),
  jwtAudience: opt(z.string().optional(), { flag: 'jwt-audience', arg: 'A', help: 'required aud claim' }),
  /** Deadline of one tool call (ms), on every transport; `_meta.timeout_ms` can shorten it. */
  deadlineMs: opt(z.number().int().min(100).default(120_000), {
    flag: 'deadline',
    arg: 'DURATION',
    help: 'deadline of one tool call; _meta.timeout_ms can shorten it (default 2m)',
    read: duration(),
  }),
  /** Response cache size in bytes (0 = off). */
  cacheBytes: opt(z.number().int().min(0).default(64e6), {
    flag: 'cache-size',
    arg: 'SIZE',
    help: 'response cache for deterministic calls, e.g. 64MB, 0 = off (default 64MB)',
    read: bytes(true),
  }),
  /** Response cache entry lifetime (ms). */
  cacheTtlMs: opt(z.number().int().min(1).default(600_000), {
    flag: 'cache-ttl',
    arg: 'DURATION',
    help: 'response cache entry lifetime (default 10m)',
    read: duration(),
  }),
  /** Circuit breaker cool-down before a probe (ms). */
  breakerResetMs: opt(z.number().int().min(100).default(30_000), {
    flag: 'breaker-reset',
    arg: 'DURATION',
    help: 'circuit breaker cool-down before a probe (default 30s)',
    read: duration(),
  }),
  /** JSON-RPC messages per minute per key (or per client address without auth); 0 = unlimited. */
  rateLimit: opt(z.number().int().min(0).default(0), {
    flag: 'rate-limit',
    arg: 'N',
    help: 'JSON-RPC messages per minute per key or client; a batch counts each message (0 = off)',
    read: int,
  }),
  /** Inference requests per minute per model; 0 = unlimited. */
  modelRateLimit: opt(z.number().int().min(0).default(0), {
    flag: 'model-rate-limit',
    arg: 'N',
    help: 'inference requests per minute per model (0 = off)',
    read: int,
  }),
  /** Allow a non-loopback bind without auth. */
  insecure: opt(z.boolean().default(false), { flag: 'insecure', help: 'allow a non-loopback bind without API keys or JWT' }),
  /** Extra Host header values accepted (DNS-rebinding protection); loopback names always are. */
  allowedHosts: opt(z.array(z.string()).default([]), {
    flag: 'allowed-hosts',
    arg: 'LIST',
    help: 'extra Host header values to accept',
    read: list,
  }),
  /** Origins allowed by CORS (and accepted in Origin headers); empty = no cross-origin browsers. */
  corsOrigins: opt(z.array(z.string()).default([]), {
    flag: 'cors-origins',
    arg: 'LIST',
    help: 'browser origins allowed by CORS',
    read: list,
  }),
  /** Stateful sessions at most, and their idle timeout (ms). */
  maxSessions: opt(z.number().int().min(1).default(256), {
    flag: 'max-sessions',
    arg: 'N',
    help: 'stateful HTTP sessions in all (default 256)',
    read: int,
  }),
  sessionIdleMs: opt(
    z
      .number()
      .int()
      .min(1000)
      .default(30 * 60_000),
    { flag: 'session-idle', arg: 'DURATION', help: 'close a stateful session idle this long (default 30m)', read: duration() },
  ),
  /**
   * Pinned A/B splits for `model: "auto"`, per tool: `embed=a:90,b:10`; several tools separated
   * by `;`. Tools without one learn from latency (runtime/router.ts).
   */
  routes: opt(z.array(z.string()).default([]), {
    flag: 'route',
    arg: 'TOOL=M:W,...',
    help: 'pin model "auto" for a tool to a weighted split, e.g. embed=a:90,b:10 (tools separated by ;)',
    read: routeSpecs,
  }),
  /** How long a finished task's result is kept (ms), from the task's creation. */
  taskTtlMs: opt(
    z
      .number()
      .int()
      .min(1000)
      .default(15 * 60_000),
    {
      flag: 'task-ttl',
      arg: 'DURATION',
      help: 'keep a long call run as a task (MCP tasks extension) this long for its client to read (default 15m)',
      read: duration(),
    },
  ),
  /** Tasks one client may hold, running or finished. */
  maxTasksPerClient: opt(z.number().int().min(1).default(32), {
    flag: 'max-tasks-per-client',
    arg: 'N',
    help: 'tasks one key, address or process may hold; its oldest finished one makes room (default 32)',
    read: int,
  }),
  /** Stateful sessions one client (key, token subject or address) may hold. */
  maxSessionsPerClient: opt(z.number().int().min(1).default(16), {
    flag: 'max-sessions-per-client',
    arg: 'N',
    help: 'sessions one key or address may hold; its least recently used idle one makes room (default 16)',
    read: int,
  }),
  /** Failed authentications per client address per minute before it is refused outright. */
  authFailureLimit: opt(z.number().int().min(1).default(10), {
    flag: 'auth-failure-limit',
    arg: 'N',
    help: 'failed authentications per minute per address before it is refused (default 10)',
    read: int,
  }),
  /**
   * Largest accepted HTTP request body and stdio message (bytes): one base64 media input at the
   * default media limit (base64 is 4/3 of the bytes) plus the rest of the call.
   */
  maxBodyBytes: opt(
    z
      .number()
      .int()
      .min(1024)
      .default(28 * 2 ** 20),
    { flag: 'max-body-size', arg: 'SIZE', help: 'largest HTTP request body and stdio message (default 28MiB)', read: bytes() },
  ),
  /**
   * Bytes of HTTP request bodies being received or held at once, across every client. A request
   * whose declared body (or, without a length, the largest allowed body) would pass it is refused
   * with 503 before any of its body is read, so held-open uploads cannot grow the process.
   */
  bodyBudgetBytes: opt(
    z
      .number()
      .int()
      .min(1024)
      .default(256 * 2 ** 20),
    {
      flag: 'body-budget',
      arg: 'SIZE',
      help: 'HTTP request bodies in flight at once, all clients together; past it new requests get 503 (default 256MiB)',
      read: bytes(),
    },
  ),
  /** A request body must arrive whole within this (ms); slower uploads are cut off with 408. */
  bodyTimeoutMs: opt(z.number().int().min(100).default(60_000), {
    flag: 'body-timeout',
    arg: 'DURATION',
    help: 'time a request body may take to arrive; slower ones get 408 and the connection is closed (default 60s)',
    read: duration(),
  }),
  /**
   * Proxies whose X-Forwarded-For is believed (CIDR ranges). Behind an ingress every connection
   * comes from the proxy, so per-client limits need the address it forwards.
   */
  trustedProxies: opt(z.array(z.string()).default([]), {
    flag: 'trusted-proxy',
    arg: 'CIDR',
    help: 'take the client address from X-Forwarded-For when the connection comes from this range (repeatable)',
    list: true,
    read: cidr,
  }),
  /** A request still running after this is answered with a timeout error (ms). */
  requestTimeoutMs: opt(z.number().int().min(1000).default(300_000), {
    flag: 'request-timeout',
    arg: 'DURATION',
    help: 'answer an HTTP request still running after this with a timeout error (default 5m)',
    read: duration(),
  }),
  /** Time given to requests in flight on SIGTERM/SIGINT before they are answered shutting_down (ms). */
  shutdownGraceMs: opt(z.number().int().min(0).default(30_000), {
    flag: 'shutdown-grace',
    arg: 'DURATION',
    help: 'time requests in flight get on SIGTERM/SIGINT (default 30s)',
    read: duration(true),
  }),
  skillsDirs: opt(z.array(z.string()).default([]), {
    flag: 'skills-dir',
    arg: 'DIR',
    help: 'extra skill manifests, repeatable',
    list: true,
    read: path,
  }),
  /** Do not watch the skills folders (manifest changes then need a restart). */
  noWatch: opt(z.boolean().default(false), {
    flag: 'no-watch',
    help: 'do not watch the skills folders; by default added, changed or removed manifests apply at once',
  }),
  /** Let register_model take Hub ids (when online). */
  allowRegisterHub: opt(z.boolean().default(false), {
    flag: 'allow-register-hub',
    help: 'enable the register_model tool for Hub ids (default off)',
  }),
  /** Folders whose models the admin tool register_model may register; empty = the tool is off. */
  allowRegisterDirs: opt(z.array(z.string()).default([]), {
    flag: 'allow-register-dir',
    arg: 'DIR',
    help: 'enable the register_model tool for model folders under DIR (repeatable; default off: an agent adding models is a supply-chain decision)',
    list: true,
    read: path,
  }),
  modelsDir: opt(z.string().optional(), { flag: 'models-dir', arg: 'DIR', help: 'local model mirror laid out as org/name/', read: path }),
  cacheDir: opt(
    z.string().default(() => join(homedir(), '.cache', 'hf-model-server')),
    { flag: 'cache-dir', arg: 'DIR', help: 'download cache (default ~/.cache/hf-model-server)', read: path },
  ),
  offline: opt(z.boolean().default(false), { flag: 'offline', help: 'never contact the Hugging Face Hub' }),
  /** Base URL of the model hub: a Hugging Face mirror or an in-house proxy. */
  hubEndpoint: opt(z.string().url().default('https://huggingface.co'), {
    flag: 'hub-endpoint',
    arg: 'URL',
    envAlso: ['HF_ENDPOINT'],
    help: 'model hub to download from: a mirror or proxy (default https://huggingface.co)',
  }),
  /** Token for gated or private models on the hub; from the environment only (a flag would show in process lists). */
  hubToken: opt(z.string().min(1).optional(), {
    env: 'HUB_TOKEN',
    envAlso: ['HF_TOKEN', 'HF_ACCESS_TOKEN'],
    arg: 'TOKEN',
    help: 'token for gated or private models, sent to the hub endpoint only and never logged (HF_TOKEN)',
  }),
  /** How long one request for the hub's metadata (a model's file list, its config) may take (ms). */
  hubTimeoutMs: opt(z.number().int().min(100).default(30_000), {
    flag: 'hub-timeout',
    arg: 'DURATION',
    help: "time one request for a model's file list or config on the hub may take (default 30s)",
    read: duration(),
  }),
  tools: opt(z.array(z.enum(TOOL_NAMES)).default([...TOOL_NAMES]), {
    flag: 'tools',
    arg: 'LIST',
    help: `comma-separated subset of: ${TOOL_NAMES.join(', ')}`,
    read: list,
  }),
  /**
   * Whether tools/list carries each tool's output schema. Off by default: hosts do not show output
   * schemas to the model, yet they were a third of the list's tokens; results carry
   * structuredContent either way, and /openapi.json describes the same results.
   */
  outputSchemas: opt(z.boolean().default(false), {
    flag: 'output-schemas',
    help: "list each tool's output schema (for clients that type or validate results; costs context tokens)",
  }),
  logLevel: opt(z.enum(LOG_LEVELS).default('info'), {
    flag: 'log-level',
    arg: 'L',
    help: `${LOG_LEVELS.join('|')} (default info; call: warn); logs go to stderr`,
  }),
  device: opt(z.enum(DEVICE_NAMES).default('auto'), { flag: 'device', arg: 'D', help: `${DEVICE_NAMES.join('|')} (default auto)` }),
  threads: opt(z.number().int().min(0).max(256).default(0), {
    flag: 'threads',
    arg: 'N',
    help: 'onnxruntime intra-op threads per model; 0 = auto: one per compute core (physical cores, within a container CPU quota)',
    read: int,
  }),
  maxConcurrency: opt(z.number().int().min(1).max(1024).default(4), {
    flag: 'max-concurrency',
    arg: 'N',
    help: 'inference calls running at once (default 4)',
    read: int,
  }),
  /** Relaunch once with glibc settings that return unloaded model memory sooner (process/allocator.ts). */
  mallocTuning: opt(z.boolean().default(false), {
    flag: 'malloc-tuning',
    help: 'Linux: relaunch with allocator settings that return unloaded model memory sooner (slower generation)',
  }),
  /** Where inference runs: a worker thread per model (default), or the main thread. */
  inferenceThread: opt(z.enum(['worker', 'main']).default('worker'), {
    flag: 'inference-thread',
    arg: 'T',
    help: 'worker (a thread per model, default) or main',
  }),
  /** Memory for loaded models, bytes. */
  memoryBudget: opt(
    z
      .number()
      .int()
      .positive()
      .default(() => Math.floor(totalmem() * DEFAULT_BUDGET_FRACTION)),
    { flag: 'memory-budget', arg: 'SIZE', help: 'memory for loaded models, e.g. 4GB, 60% (default 50% of RAM)', read: bytes() },
  ),
  /** Idle time before a model is unloaded, ms; -1 = never, 0 = right after use. */
  keepAliveMs: opt(z.number().int().min(-1).default(300_000), {
    flag: 'keep-alive',
    arg: 'DURATION',
    help: 'unload a model after this idle time, e.g. 5m, 0, or -1 for never (default 5m)',
    read: duration(true),
  }),
  preload: opt(z.array(z.string()).default([]), { flag: 'preload', arg: 'LIST', help: 'skills to load at startup', read: list }),
  pin: opt(z.array(z.string()).default([]), { flag: 'pin', arg: 'LIST', help: 'skills never unloaded or evicted', read: list }),
  /** Batches of one model run at once. 0 = auto: 1 (a model computes on its one worker thread). */
  batchConcurrency: opt(z.number().int().min(0).max(64).default(0), {
    flag: 'batch-concurrency',
    arg: 'N',
    help: 'batches of one model running at once; 0 = auto: 1',
    read: int,
  }),
  /** Sessions per text-encoder model, each in its own worker thread (hardware/threads.ts). */
  replicas: opt(z.number().int().min(1).max(16).default(1), {
    flag: 'replicas',
    arg: 'N',
    help: 'sessions per embedding or classification model, each in its own thread with cores/N onnxruntime threads: more throughput under load, slower single requests (default 1)',
    read: int,
  }),
  /** Queued units per model and task before requests are refused as overloaded. */
  maxQueue: opt(z.number().int().min(1).default(4096), {
    flag: 'max-queue',
    arg: 'N',
    help: 'queued inputs per model before "overloaded"; at least --max-client-batch-size (default 4096)',
    read: int,
  }),
  media: {
    /** Folders local media paths must lie in (hidden files and folders inside them are never read). */
    allowDirs: opt(
      z.array(z.string()).default(() => defaultAllowDirs(process.cwd(), homedir())),
      {
        flag: 'allow-dir',
        arg: 'DIR',
        help: 'folder local media paths may come from, repeatable (default the working directory, or your home when it is /)',
        list: true,
        read: path,
      },
    ),
    allowUrls: opt(z.boolean().default(false), { flag: 'allow-urls', help: 'fetch http(s) media URLs (default off)' }),
    /** Let URLs reach loopback, private and link-local addresses (SSRF guard off). */
    allowPrivateUrls: opt(z.boolean().default(false), {
      flag: 'allow-private-urls',
      help: 'let media URLs reach loopback/private/link-local addresses (default off)',
    }),
    maxBytes: opt(
      z
        .number()
        .int()
        .min(1)
        .default(20 * 2 ** 20),
      { flag: 'max-media-size', arg: 'SIZE', help: 'largest media input (default 20MiB)', read: bytes() },
    ),
    maxPixels: opt(z.number().int().min(1).default(25_000_000), {
      flag: 'max-image-pixels',
      arg: 'N',
      help: 'largest image in pixels (default 25000000)',
      read: int,
    }),
    /** Longest audio, seconds. */
    maxAudioSeconds: opt(z.number().min(1).default(3600), {
      flag: 'max-audio-duration',
      arg: 'D',
      help: 'longest audio (default 1h)',
      read: duration(false, 's'),
    }),
    /** Decoded media held in memory at once, bytes; calls beyond it wait for room. */
    memoryBytes: opt(
      z
        .number()
        .int()
        .min(1)
        .default(256 * 2 ** 20),
      { flag: 'media-memory', arg: 'SIZE', help: 'decoded media held at once; calls beyond it wait (default 256MiB)', read: bytes() },
    ),
    /** Timeout of one URL download (ms). */
    urlTimeoutMs: opt(z.number().int().min(100).default(15_000), {
      flag: 'url-timeout',
      arg: 'DURATION',
      help: 'timeout of one media URL download (default 15s)',
      read: duration(),
    }),
  },
  limits: {
    /** Texts (or other items) one call may carry; OpenAI's embeddings accept 2048, and the batcher splits them. */
    maxTexts: opt(z.number().int().min(1).default(2048), {
      flag: 'max-client-batch-size',
      arg: 'N',
      help: 'texts one call may carry, as TEI names it; the server batches them itself (default 2048, as OpenAI)',
      read: int,
    }),
    maxTextChars: opt(z.number().int().min(1).default(16_384)),
    maxNewTokens: opt(z.number().int().min(1).default(2048)),
    maxMessages: opt(z.number().int().min(1).default(256)),
  },
} satisfies OptTree;

const ConfigSchema = schemaOf(OPTIONS);

/** The working directory, or the home folder when that is `/` (where desktop clients start servers); none if both are `/`. */
export function defaultAllowDirs(cwd: string, home: string): string[] {
  const root = resolve('/');
  if (resolve(cwd) !== root) return [resolve(cwd)];
  return home && resolve(home) !== root ? [resolve(home)] : [];
}

/** The validated, frozen server configuration. */
export type Config = Readonly<z.infer<typeof ConfigSchema>>;

/** Fraction of RAM used as the default memory budget. */
export const DEFAULT_BUDGET_FRACTION = 0.5;

/** The option lines of `--help` (also copied into docs/reference.md by `npm run docs:config`). */
export function optionLines(): string {
  return helpLines(OPTIONS);
}

/** Help text for `--help`, generated from the option table. */
export const HELP = `hf-model-server — local Hugging Face models as MCP tools

Usage:
  hf-model-server [serve] [DIR...] [options]   serve MCP over stdio; DIRs are folders the tools may read
  hf-model-server call <tool> '<json>'      run one tool once and print the JSON result
  hf-model-server pull <skill|hub id>...    download models into --cache-dir (idempotent)
  hf-model-server add <folder|org/name> [--name N] [--task T]   infer a skill for a model folder or Hub id and save it
  hf-model-server list                      skills: tasks, source, on disk, size
  hf-model-server rm <name> [--purge]       remove an added skill (--purge: its downloaded files too)
  hf-model-server help [command]            this help, or one command's

Options (each also an ${ENV_PREFIX}* environment variable, named in brackets):
${helpLines(OPTIONS)}
  -h, --help                 this help
  -v, --version              print the version
`;

/** One command's help, for `hf-model-server <command> --help` and `hf-model-server help <command>`. */
const COMMAND_HELP: Record<string, string> = {
  serve: `Usage: hf-model-server [serve] [DIR...] [options]

Serves MCP over stdio (and HTTP with --transport http or both). Each DIR is a folder the tools may
read local files from, like --allow-dir; without any, the working directory (or your home when
that is /).
`,
  call: `Usage: hf-model-server call <tool> '<json args>' [options]

Runs one tool once and prints its JSON result (exit 0), or the error (exit 1). Example:
  hf-model-server call ocr '{"image":"page.png"}'
`,
  pull: `Usage: hf-model-server pull <skill|org/name>... [options]

Downloads the models of skills (or of Hub ids no skill names) into --cache-dir, so the server can
then run --offline. Models already there are not fetched again.
`,
  add: `Usage: hf-model-server add <folder|org/name> [--name N] [--task T] [options]

Infers a skill manifest for a model folder on disk or a Hub id (from its file list and config,
without downloading weights) and saves it with your skills. --task picks the task when the
architecture does not say; --name the skill's name.
`,
  list: `Usage: hf-model-server list [options]

Lists the skills: tasks, where the model comes from, whether it is on disk, and its size.
`,
  rm: `Usage: hf-model-server rm <name> [--purge] [options]

Removes a skill you added; --purge also deletes its downloaded files. Built-in skills stay: they
take no memory or disk until used.
`,
};

/** Result of parsing argv: a config, plus the `call` subcommand, help or version request, and notes for the user. */
export interface ParsedCli {
  config: Config;
  help: boolean;
  /** What to print for a help request: the general help or one command's. */
  helpText?: string;
  version: boolean;
  call?: { tool: string; args: string };
  /** `pull <skill|hub id>...`: models to download into the cache. */
  pull?: string[];
  /** `add <folder> [--name N] [--task T]`, `list`, `rm <name> [--purge]`: skill management. */
  skills?: { command: 'add' | 'list' | 'rm'; target?: string; name?: string; task?: string; purge: boolean };
  /** Things the user should know about how their flags were read (printed on stderr). */
  notes: string[];
}

/**
 * Parses argv (without node and script) and the environment. Flags win over environment.
 * Throws ConfigError with a one-line message on anything invalid.
 */
export function parseCli(argv: string[], env: Record<string, string | undefined>): ParsedCli {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        ...parseArgsOptions(OPTIONS),
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
        // Flags of the skill commands (add, rm).
        name: { type: 'string' },
        task: { type: 'string' },
        purge: { type: 'boolean' },
      },
    });
  } catch (e) {
    const msg = (e as Error).message;
    const flag = /Unknown option '(-{1,2}[^']+)'/.exec(msg)?.[1];
    if (flag) {
      const known = [...Object.keys(parseArgsOptions(OPTIONS)), 'help', 'version', 'name', 'task', 'purge'];
      const near = nearest(flag.replace(/^-+/, '').split('=')[0]!, known);
      throw new ConfigError(`unknown option ${flag.slice(0, 60)}${near ? `; did you mean --${near}?` : ''}`);
    }
    throw new ConfigError(msg);
  }
  const v = parsed.values as Record<string, unknown>;
  const pos = parsed.positionals;
  // `help` and `<command> --help` print the usage before anything is checked.
  if (pos[0] === 'help' || v.help === true) {
    const topic = pos[0] === 'help' ? pos[1] : pos[0];
    return {
      config: makeConfig({}),
      help: true,
      helpText: topic && COMMAND_HELP[topic] ? COMMAND_HELP[topic] : HELP,
      version: false,
      notes: [],
    };
  }
  let call: ParsedCli['call'];
  let pull: ParsedCli['pull'];
  let skills: ParsedCli['skills'];
  let serveDirs: string[] = [];
  if (pos[0] === 'add' || pos[0] === 'rm' || pos[0] === 'list') {
    if (pos[0] !== 'list' && !pos[1])
      throw new ConfigError(
        `usage: hf-model-server ${pos[0] === 'add' ? 'add <folder|org/name> [--name N] [--task T]' : 'rm <name> [--purge]'}`,
      );
    skills = {
      command: pos[0],
      ...(pos[1] ? { target: pos[1] } : {}),
      ...(typeof v.name === 'string' ? { name: v.name } : {}),
      ...(typeof v.task === 'string' ? { task: v.task } : {}),
      purge: v.purge === true,
    };
  } else if ((v.name !== undefined || v.task !== undefined || v.purge !== undefined) && pos[0] !== 'add') {
    throw new ConfigError('--name, --task and --purge belong to the add and rm commands');
  } else if (pos[0] === 'pull') {
    if (pos.length < 2) throw new ConfigError('usage: hf-model-server pull <skill|hub id>...');
    pull = pos.slice(1);
  } else if (pos[0] === 'serve') {
    serveDirs = pos.slice(1).map((d) => resolve(d));
  } else if (pos.length > 0) {
    if (pos[0] !== 'call') {
      const near = nearest(pos[0]!, Object.keys(COMMAND_HELP));
      throw new ConfigError(
        `unknown command "${pos[0]!.slice(0, 60)}"${near ? `; did you mean ${near}?` : ''} (commands: ${[...Object.keys(COMMAND_HELP), 'help'].join(', ')})`,
      );
    }
    if (!pos[1]) throw new ConfigError(`usage: hf-model-server call <tool> '<json args>'`);
    call = { tool: pos[1], args: pos[2] ?? '{}' };
  }
  const given = rawConfig(OPTIONS, v, env) as Record<string, unknown> & { media?: Record<string, unknown> };
  const raw = (typeof given.configFile === 'string' ? merged(optionsFile(given.configFile), given) : given) as typeof given;
  // `serve DIR...` allows those folders too, as MCP filesystem servers take them (and as an MCP
  // bundle passes a list of folders: one argument each).
  if (serveDirs.length > 0) {
    const given = (raw.media?.allowDirs as string[] | undefined) ?? [];
    raw.media = { ...raw.media, allowDirs: [...given, ...serveDirs] };
  }
  const notes: string[] = [];
  if (raw.transport === undefined && (v.port !== undefined || v.host !== undefined) && !call) {
    raw.transport = 'http';
    notes.push(
      `--${v.port !== undefined ? 'port' : 'host'} given without --transport: serving HTTP (use --transport both to keep stdio too)`,
    );
  }
  // One `call` prints its result; the server's info lines would only bury it. `pull` reports
  // each model's outcome itself, so the loader's warning would say the same thing twice.
  if (raw.logLevel === undefined && (call || pull || skills)) raw.logLevel = pull ? 'error' : 'warn';
  // Skills added with `add` are found in the user's configuration folder.
  if (raw.configDir === undefined) {
    const home = env.XDG_CONFIG_HOME ?? (env.HOME ? join(env.HOME, '.config') : undefined);
    if (home) raw.configDir = join(home, 'hf-model-server');
  }
  const r = ConfigSchema.safeParse({ media: {}, limits: {}, ...raw });
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new ConfigError(`invalid ${issue.path.join('.') || 'config'}: ${issue.message}`);
  }
  crossCheck(r.data);
  return {
    config: deepFreeze(r.data),
    help: v.help === true,
    version: v.version === true,
    notes,
    ...(call ? { call } : {}),
    ...(pull ? { pull } : {}),
    ...(skills ? { skills } : {}),
  };
}

/** Where skills added with `add` live: the configuration folder's skills/ (none without one). */
export function userSkillsDir(c: Pick<Config, 'configDir'>): string | undefined {
  return c.configDir ? join(c.configDir, 'skills') : undefined;
}

/** The folders skills are read from besides the built-ins: the added-skills folder, then each --skills-dir. */
export function skillDirs(c: Pick<Config, 'configDir' | 'skillsDirs'>): string[] {
  const added = userSkillsDir(c);
  return [...new Set([...(added ? [added] : []), ...c.skillsDirs])];
}

/** Where `add` and register_model write: the first --skills-dir, else the configuration folder's skills/. */
export function addTarget(c: Pick<Config, 'configDir' | 'skillsDirs'>): string | undefined {
  return c.skillsDirs[0] ?? userSkillsDir(c);
}

/** Checks between options. */
function crossCheck(c: Config): void {
  if (Boolean(c.tlsCert) !== Boolean(c.tlsKey)) throw new ConfigError('--tls-cert and --tls-key go together');
  if (c.maxQueue < c.limits.maxTexts)
    throw new ConfigError(
      `--max-queue (${c.maxQueue}) must be at least --max-client-batch-size (${c.limits.maxTexts}): a full call could never be queued`,
    );
  if (c.bodyBudgetBytes < c.maxBodyBytes)
    throw new ConfigError(`--body-budget (${c.bodyBudgetBytes} bytes) must be at least --max-body-size (${c.maxBodyBytes} bytes)`);
}

/** Builds a config from partial values (tests, embedding). Validated and frozen like the CLI's. */
export function makeConfig(partial: Partial<z.input<typeof ConfigSchema>> = {}): Config {
  const r = ConfigSchema.safeParse({ limits: {}, media: {}, ...partial });
  if (!r.success) throw new ConfigError(r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  crossCheck(r.data);
  return deepFreeze(r.data);
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

/**
 * A config from the CLI's options written in camelCase (`modelsDir`, `offline`, `cacheSize`,
 * `device`...), for the library API: each flag's camelCase name sets what the flag sets, and takes
 * what the flag takes (`cacheSize: '64MB'` or a number of bytes). Environment variables are not
 * read. An unknown name is a ConfigError that suggests the nearest.
 */
export function configFromOptions(options: Record<string, unknown>): Config {
  const raw = rawFromOptions(options);
  const all = typeof raw.configFile === 'string' ? merged(optionsFile(raw.configFile), raw) : raw;
  return makeConfig(all as Partial<z.input<typeof ConfigSchema>>);
}

/** An options file's raw config: a JSON object keyed as {@link configFromOptions} takes them. */
function optionsFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`--config ${file}: ${(e as NodeJS.ErrnoException).code ?? 'cannot be read'}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    // Where, not what: the file may hold keys.
    const at = /position (\d+)/.exec((e as Error).message)?.[1];
    throw new ConfigError(`--config ${file}: not valid JSON${at ? ` (at character ${at})` : ''}`);
  }
  if (!value || typeof value !== 'object' || Array.isArray(value))
    throw new ConfigError(`--config ${file}: must be a JSON object of options`);
  try {
    return rawFromOptions(value as Record<string, unknown>);
  } catch (e) {
    throw new ConfigError(`--config ${file}: ${(e as Error).message}`);
  }
}

/** `over` on top of `under`, one level into nested option groups (media, limits). */
function merged(under: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...under };
  for (const [k, v] of Object.entries(over)) {
    const u = out[k];
    out[k] =
      v && typeof v === 'object' && !Array.isArray(v) && u && typeof u === 'object' && !Array.isArray(u)
        ? { ...(u as Record<string, unknown>), ...(v as Record<string, unknown>) }
        : v;
  }
  return out;
}

/** The raw (unvalidated) config the camelCase options name. */
function rawFromOptions(options: Record<string, unknown>): Record<string, unknown> {
  const camel = (flag: string) => flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
  const byName = new Map<string, { path: string[]; read?: (text: string, name: string) => unknown; list?: boolean }>();
  for (const { path: at, opt: o } of leaves(OPTIONS))
    for (const s of o.sources)
      if (s.flag) byName.set(camel(s.flag), { path: at, ...(s.read ? { read: s.read } : {}), list: s.list === true });
  const raw: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(options)) {
    if (value === undefined) continue;
    const o = byName.get(name);
    if (!o) {
      const near = nearest(name, byName.keys());
      throw new ConfigError(`unknown option ${name}${near ? `; did you mean ${near}?` : ''}`);
    }
    const read = (v: unknown) => (typeof v === 'string' && o.read ? o.read(v, name) : v);
    const v = Array.isArray(value) ? value.flatMap((x) => [read(x)].flat()) : o.list ? [read(value)].flat() : read(value);
    let at = raw;
    for (const k of o.path.slice(0, -1)) at = (at[k] ??= {}) as Record<string, unknown>;
    at[o.path.at(-1)!] = v;
  }
  return raw;
}
