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
import { parseBytes, parseDuration } from './units.js';

/** Tool names the server can expose (`--tools` picks a subset). */
export const TOOL_NAMES = [
  'embed',
  'similarity',
  'classify',
  'generate',
  'detect',
  'ocr',
  'transcribe',
  'detect_speech',
  'load_model',
  'unload_model',
  'benchmark_model',
] as const;
export type ToolName = (typeof TOOL_NAMES)[number];

/** Devices a user may force with `--device`. */
export const DEVICE_NAMES = ['auto', 'cpu', 'cuda', 'webgpu', 'coreml', 'dml'] as const;

const csv = (s: string | undefined) =>
  s
    ? s
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean)
    : undefined;

const ConfigSchema = z.object({
  transport: z.enum(['stdio', 'http', 'both']).default('stdio'),
  /** HTTP bind address. Default 127.0.0.1. */
  host: z.string().default('127.0.0.1'),
  /** HTTP port (0 = any free port). Default 8080. */
  port: z.number().int().min(0).max(65535).default(8080),
  /** Stateless streamable HTTP (no sessions), for load-balanced replicas. */
  stateless: z.boolean().default(false),
  /** API keys (plaintext or `sha256:<hex>`); empty = no auth. */
  apiKeys: z.array(z.string()).default([]),
  /** HS256 secret for JWT bearer tokens. */
  jwtSecret: z.string().min(16).optional(),
  /** Accept JWTs without an `exp` claim (they never expire). Default off. */
  jwtAllowNoExp: z.boolean().default(false),
  /** JWKS file (JSON) with public keys for JWT bearer tokens. */
  jwksFile: z.string().optional(),
  /** Expected JWT issuer and audience, when set. */
  jwtIssuer: z.string().optional(),
  jwtAudience: z.string().optional(),
  /** Deadline of one tool call (ms), on every transport; `_meta.timeout_ms` can shorten it. Default 2 minutes. */
  deadlineMs: z.number().int().min(100).default(120_000),
  /** Response cache size in bytes (0 = off). Default 64 MB. */
  cacheBytes: z.number().int().min(0).default(64e6),
  /** Response cache entry lifetime (ms). Default 10 minutes. */
  cacheTtlMs: z.number().int().min(1).default(600_000),
  /** Circuit breaker cool-down before a probe (ms). Default 30 s. */
  breakerResetMs: z.number().int().min(100).default(30_000),
  /** Requests per minute per key (or per client address without auth); 0 = unlimited. */
  rateLimit: z.number().int().min(0).default(0),
  /** Inference requests per minute per model; 0 = unlimited. */
  modelRateLimit: z.number().int().min(0).default(0),
  /** Allow a non-loopback bind without auth. */
  insecure: z.boolean().default(false),
  /** Extra Host header values accepted (DNS-rebinding protection); loopback names always are. */
  allowedHosts: z.array(z.string()).default([]),
  /** Origins allowed by CORS (and accepted in Origin headers); empty = no cross-origin browsers. */
  corsOrigins: z.array(z.string()).default([]),
  /** Stateful sessions at most, and their idle timeout (ms). */
  maxSessions: z.number().int().min(1).default(256),
  sessionIdleMs: z
    .number()
    .int()
    .min(1000)
    .default(30 * 60_000),
  /** Stateful sessions one client (key, token subject or address) may hold. Default 16. */
  maxSessionsPerClient: z.number().int().min(1).default(16),
  /** Failed authentications per client address per minute before it is refused outright. Default 10. */
  authFailureLimit: z.number().int().min(1).default(10),
  /**
   * Largest accepted HTTP request body and stdio message (bytes). Default 28 MiB: one base64 media input at the
   * default 20 MiB media limit (base64 is 4/3 of the bytes) plus the rest of the call.
   */
  maxBodyBytes: z
    .number()
    .int()
    .min(1024)
    .default(28 * 2 ** 20),
  /** Requests running longer are answered 504 (ms). Default 5 minutes. */
  requestTimeoutMs: z.number().int().min(1000).default(300_000),
  /** Time given to requests in flight on SIGTERM/SIGINT before exiting (ms). Default 30 s. */
  shutdownGraceMs: z.number().int().min(0).default(30_000),
  skillsDirs: z.array(z.string()).default([]),
  modelsDir: z.string().optional(),
  cacheDir: z.string(),
  offline: z.boolean().default(false),
  /** Base URL of the model hub: a Hugging Face mirror or an in-house proxy. */
  hubEndpoint: z.string().url().default('https://huggingface.co'),
  tools: z.array(z.enum(TOOL_NAMES)).default([...TOOL_NAMES]),
  logLevel: z.enum(LOG_LEVELS).default('info'),
  device: z.enum(DEVICE_NAMES).default('auto'),
  threads: z.number().int().min(0).max(256).default(0),
  maxConcurrency: z.number().int().min(1).max(1024).default(4),
  /** Where inference runs: a worker thread per model (default), or the main thread. */
  inferenceThread: z.enum(['worker', 'main']).default('worker'),
  /** Memory for loaded models, bytes. Default: 50% of RAM. */
  memoryBudget: z
    .number()
    .int()
    .positive()
    .default(() => Math.floor(totalmem() * DEFAULT_BUDGET_FRACTION)),
  /** Idle time before a model is unloaded, ms; -1 = never, 0 = right after use. Default 5 minutes. */
  keepAliveMs: z.number().int().min(-1).default(300_000),
  /** Skills to load at startup. */
  preload: z.array(z.string()).default([]),
  /** Skills never unloaded for idleness or evicted for memory. */
  pin: z.array(z.string()).default([]),
  /**
   * Batches of one model run at once. 0 = auto: cores / threads when --threads is set (so the
   * intra-op threads of concurrent batches fill the cores), else 1.
   */
  batchConcurrency: z.number().int().min(0).max(64).default(0),
  /** Queued units per model and task before requests are refused as overloaded. Default 1024. */
  maxQueue: z.number().int().min(1).default(1024),
  media: z.object({
    /**
     * Folders local media paths must lie in (after resolving `..` and symlinks; hidden files and
     * folders inside them are never read). Default: the working directory, or the user's home
     * when the working directory is the filesystem root (as for desktop MCP clients).
     */
    allowDirs: z.array(z.string()).default(() => defaultAllowDirs(process.cwd(), homedir())),
    /** Fetch http(s) media URLs. Default off. */
    allowUrls: z.boolean().default(false),
    /** Let URLs reach loopback, private and link-local addresses. Default off (SSRF guard). */
    allowPrivateUrls: z.boolean().default(false),
    /** Largest media input, bytes (decoded base64, file or download). Default 20 MiB. */
    maxBytes: z
      .number()
      .int()
      .min(1)
      .default(20 * 2 ** 20),
    /** Largest image, pixels (width x height). Default 25 megapixels. */
    maxPixels: z.number().int().min(1).default(25_000_000),
    /** Longest audio, seconds. Default 1 hour. */
    maxAudioSeconds: z.number().min(1).default(3600),
    /**
     * Decoded media held in memory at once, bytes (images and audio waiting in the queue count);
     * calls beyond it wait for room. Default 256 MiB.
     */
    memoryBytes: z
      .number()
      .int()
      .min(1)
      .default(256 * 2 ** 20),
    /** Timeout of one URL download (ms). Default 15 s. */
    urlTimeoutMs: z.number().int().min(100).default(15_000),
  }),
  limits: z.object({
    maxTexts: z.number().int().min(1).default(256),
    maxTextChars: z.number().int().min(1).default(16_384),
    maxNewTokens: z.number().int().min(1).default(2048),
    maxMessages: z.number().int().min(1).default(256),
  }),
});

/** The working directory, or the home folder when that is `/` (where desktop clients start servers); none if both are `/`. */
export function defaultAllowDirs(cwd: string, home: string): string[] {
  const root = resolve('/');
  if (resolve(cwd) !== root) return [resolve(cwd)];
  return home && resolve(home) !== root ? [resolve(home)] : [];
}

/** The validated, frozen server configuration. */
export type Config = Readonly<z.infer<typeof ConfigSchema>>;

/** Raised for bad flags or environment values; the CLI prints it and exits 2. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Fraction of RAM used as the default memory budget. */
export const DEFAULT_BUDGET_FRACTION = 0.5;

/** Help text for `--help`. */
export const HELP = `hf-model-server — local Hugging Face models as MCP tools

Usage:
  hf-model-server [options]                 serve MCP over stdio
  hf-model-server call <tool> '<json>'      run one tool once and print the JSON result

Options (each also as an HF_MODEL_SERVER_* environment variable):
  --transport T            stdio, http or both (HF_MODEL_SERVER_TRANSPORT; default stdio)
  --host H, --port N       HTTP bind address and port (HF_MODEL_SERVER_HOST/_PORT; default 127.0.0.1:8080)
  --stateless              stateless streamable HTTP, for load-balanced replicas (HF_MODEL_SERVER_STATELESS=1)
  --api-key-file FILE      API keys, one per line, plaintext or sha256:<hex> (HF_MODEL_SERVER_API_KEY_FILE);
                           HF_MODEL_SERVER_API_KEYS holds comma-separated keys too
  --jwt-secret-file FILE   verify HS256 JWT bearer tokens with the secret in FILE, kept out of ps
                           (HF_MODEL_SERVER_JWT_SECRET_FILE); --jwt-secret S (HF_MODEL_SERVER_JWT_SECRET) also works
  --jwt-allow-no-exp       accept JWTs without an exp claim (HF_MODEL_SERVER_JWT_ALLOW_NO_EXP=1; default: refused)
  --jwks-file FILE         verify JWT bearer tokens with these public keys (HF_MODEL_SERVER_JWKS_FILE)
  --jwt-issuer I, --jwt-audience A   required iss / aud claims (HF_MODEL_SERVER_JWT_ISSUER/_AUDIENCE)
  --rate-limit N           JSON-RPC messages per minute per key or client; a batch counts each message
                           (HF_MODEL_SERVER_RATE_LIMIT; 0 = off)
  --auth-failure-limit N   failed authentications per minute per address before it is refused
                           (HF_MODEL_SERVER_AUTH_FAILURE_LIMIT; default 10)
  --max-sessions N         stateful HTTP sessions in all (HF_MODEL_SERVER_MAX_SESSIONS; default 256)
  --max-sessions-per-client N  sessions one key or address may hold; its least recently used idle one
                           makes room (HF_MODEL_SERVER_MAX_SESSIONS_PER_CLIENT; default 16)
  --model-rate-limit N     inference requests per minute per model (HF_MODEL_SERVER_MODEL_RATE_LIMIT; 0 = off)
  --insecure               allow a non-loopback bind without API keys or JWT (HF_MODEL_SERVER_INSECURE=1)
  --allowed-hosts LIST     extra Host header values to accept (HF_MODEL_SERVER_ALLOWED_HOSTS)
  --cors-origins LIST      browser origins allowed by CORS (HF_MODEL_SERVER_CORS_ORIGINS)
  --max-body-size SIZE     largest HTTP request body and stdio message (HF_MODEL_SERVER_MAX_BODY_SIZE; default 28MiB,
                           one base64 media input at the media limit plus the call)
  --skills-dir DIR         extra skill manifests, repeatable (HF_MODEL_SERVER_SKILLS_DIR, comma-separated)
  --models-dir DIR         local model mirror laid out as org/name/ (HF_MODEL_SERVER_MODELS_DIR)
  --cache-dir DIR          download cache (HF_MODEL_SERVER_CACHE_DIR; default ~/.cache/hf-model-server)
  --offline                never contact the Hugging Face Hub (HF_MODEL_SERVER_OFFLINE=1)
  --hub-endpoint URL       model hub to download from: a mirror or proxy (HF_ENDPOINT or
                           HF_MODEL_SERVER_HUB_ENDPOINT; default https://huggingface.co)
  --tools LIST             comma-separated subset of: ${TOOL_NAMES.join(', ')} (HF_MODEL_SERVER_TOOLS)
  --device D               ${DEVICE_NAMES.join('|')} (HF_MODEL_SERVER_DEVICE; default auto)
  --threads N              onnxruntime intra-op threads, 0 = its default (HF_MODEL_SERVER_THREADS)
  --max-concurrency N      inference calls running at once (HF_MODEL_SERVER_MAX_CONCURRENCY; default 4)
  --inference-thread T     worker (a thread per model, default) or main (HF_MODEL_SERVER_INFERENCE_THREAD)
  --memory-budget SIZE     memory for loaded models, e.g. 4GB, 60% (HF_MODEL_SERVER_MEMORY_BUDGET; default 50% of RAM)
  --keep-alive DURATION    unload a model after this idle time, e.g. 5m, 0, never (or --keep-alive=-1) (HF_MODEL_SERVER_KEEP_ALIVE; default 5m)
  --preload LIST           skills to load at startup (HF_MODEL_SERVER_PRELOAD)
  --pin LIST               skills never unloaded or evicted (HF_MODEL_SERVER_PIN)
  --deadline DURATION      deadline of one tool call; _meta.timeout_ms can shorten it (HF_MODEL_SERVER_DEADLINE; default 2m)
  --cache-size SIZE        response cache for deterministic calls, e.g. 64MB, 0 = off (HF_MODEL_SERVER_CACHE_SIZE)
  --cache-ttl DURATION     response cache entry lifetime (HF_MODEL_SERVER_CACHE_TTL; default 10m)
  --breaker-reset DURATION circuit breaker cool-down before a probe (HF_MODEL_SERVER_BREAKER_RESET; default 30s)
  --max-queue N            queued inputs per model before "overloaded" (HF_MODEL_SERVER_MAX_QUEUE; default 1024)
  --batch-concurrency N    batches of one model running at once, 0 = auto: cores/threads when --threads
                           is set, else 1 (HF_MODEL_SERVER_BATCH_CONCURRENCY)
  --allow-dir DIR          folder local media paths may come from, repeatable (HF_MODEL_SERVER_ALLOW_DIR,
                           comma-separated; default the working directory, or your home when it is /;
                           hidden files and folders are never read)
  --allow-urls             fetch http(s) media URLs (HF_MODEL_SERVER_ALLOW_URLS=1; default off)
  --allow-private-urls     let media URLs reach loopback/private/link-local addresses (default off)
  --max-media-size SIZE    largest media input (HF_MODEL_SERVER_MAX_MEDIA_SIZE; default 20MiB)
  --max-image-pixels N     largest image in pixels (HF_MODEL_SERVER_MAX_IMAGE_PIXELS; default 25000000)
  --max-audio-duration D   longest audio (HF_MODEL_SERVER_MAX_AUDIO_DURATION; default 1h)
  --media-memory SIZE      decoded media held at once; calls beyond it wait (HF_MODEL_SERVER_MEDIA_MEMORY; default 256MiB)
  --log-level L            ${LOG_LEVELS.join('|')} (HF_MODEL_SERVER_LOG_LEVEL; default info); logs go to stderr
  -h, --help               this help
  -v, --version            print the version
`;

function bool(v: string | undefined): boolean | undefined {
  if (v === undefined) return undefined;
  if (/^(1|true|yes|on)$/i.test(v)) return true;
  if (/^(0|false|no|off)$/i.test(v)) return false;
  throw new ConfigError(`expected a boolean, got "${v}"`);
}

function int(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new ConfigError(`${name} must be an integer, got "${v}"`);
  return n;
}

function readKeyFile(path: string | undefined): string[] {
  if (!path) return [];
  try {
    return readFileSync(path, 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
  } catch (e) {
    throw new ConfigError(`cannot read API key file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** A secret kept in a file (trailing newline dropped), so it stays out of the process list. */
function readSecretFile(path: string | undefined): string | undefined {
  if (!path) return undefined;
  try {
    return readFileSync(path, 'utf8').replace(/\r?\n$/, '');
  } catch (e) {
    throw new ConfigError(`cannot read JWT secret file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

function bytes(v: string | undefined, name = 'memory budget'): number | undefined {
  if (v === undefined) return undefined;
  const n = parseBytes(v, totalmem());
  if (n === undefined || n <= 0) throw new ConfigError(`${name} must be a size like 4GB, 512MiB or 60%, got "${v}"`);
  return n;
}

/** A duration flag in ms; `positive` refuses 0 and -1 (forever), which only keep-alive accepts. */
function duration(name: string, v: string | undefined, positive = true): number | undefined {
  if (v === undefined) return undefined;
  const n = parseDuration(v);
  if (n === undefined || (positive && n <= 0)) {
    throw new ConfigError(`${name} must be a duration like ${positive ? '10m or 30s' : '5m, 30s, 0 or -1'}, got "${v}"`);
  }
  return n;
}

/** Result of parsing argv: a config, plus the `call` subcommand, help or version request, and notes for the user. */
export interface ParsedCli {
  config: Config;
  help: boolean;
  version: boolean;
  call?: { tool: string; args: string };
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
        transport: { type: 'string' },
        host: { type: 'string' },
        port: { type: 'string' },
        stateless: { type: 'boolean' },
        'api-key-file': { type: 'string' },
        insecure: { type: 'boolean' },
        'jwt-secret': { type: 'string' },
        'jwt-secret-file': { type: 'string' },
        'jwt-allow-no-exp': { type: 'boolean' },
        'jwks-file': { type: 'string' },
        'jwt-issuer': { type: 'string' },
        'jwt-audience': { type: 'string' },
        'rate-limit': { type: 'string' },
        'auth-failure-limit': { type: 'string' },
        'max-sessions': { type: 'string' },
        'max-sessions-per-client': { type: 'string' },
        'model-rate-limit': { type: 'string' },
        'allowed-hosts': { type: 'string' },
        'cors-origins': { type: 'string' },
        'max-body-size': { type: 'string' },
        'skills-dir': { type: 'string', multiple: true },
        'models-dir': { type: 'string' },
        'cache-dir': { type: 'string' },
        offline: { type: 'boolean' },
        'hub-endpoint': { type: 'string' },
        tools: { type: 'string' },
        device: { type: 'string' },
        threads: { type: 'string' },
        'max-concurrency': { type: 'string' },
        'inference-thread': { type: 'string' },
        'memory-budget': { type: 'string' },
        'keep-alive': { type: 'string' },
        preload: { type: 'string' },
        pin: { type: 'string' },
        'max-queue': { type: 'string' },
        'cache-size': { type: 'string' },
        deadline: { type: 'string' },
        'cache-ttl': { type: 'string' },
        'breaker-reset': { type: 'string' },
        'batch-concurrency': { type: 'string' },
        'allow-dir': { type: 'string', multiple: true },
        'allow-urls': { type: 'boolean' },
        'allow-private-urls': { type: 'boolean' },
        'max-media-size': { type: 'string' },
        'max-image-pixels': { type: 'string' },
        'max-audio-duration': { type: 'string' },
        'media-memory': { type: 'string' },
        'log-level': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
    });
  } catch (e) {
    throw new ConfigError((e as Error).message);
  }
  const v = parsed.values;
  const E = (k: string) => env[`HF_MODEL_SERVER_${k}`];
  const pos = parsed.positionals;
  let call: ParsedCli['call'];
  if (pos.length > 0) {
    if (pos[0] !== 'call') throw new ConfigError(`unknown command "${pos[0]}"; did you mean "call <tool> '<json>'"?`);
    if (!pos[1]) throw new ConfigError(`usage: hf-model-server call <tool> '<json args>'`);
    call = { tool: pos[1], args: pos[2] ?? '{}' };
  }
  const notes: string[] = [];
  let transport = v.transport ?? E('TRANSPORT');
  if (transport === undefined && (v.port !== undefined || v.host !== undefined) && !call) {
    transport = 'http';
    notes.push(
      `--${v.port !== undefined ? 'port' : 'host'} given without --transport: serving HTTP (use --transport both to keep stdio too)`,
    );
  }
  // One `call` prints its result; the server's info lines would only bury it.
  const logLevel = v['log-level'] ?? E('LOG_LEVEL') ?? (call ? 'warn' : undefined);
  const raw = {
    transport,
    host: v.host ?? E('HOST'),
    port: int('port', v.port ?? E('PORT')),
    stateless: v.stateless ?? bool(E('STATELESS')),
    apiKeys: [...(csv(E('API_KEYS')) ?? []), ...readKeyFile(v['api-key-file'] ?? E('API_KEY_FILE'))],
    insecure: v.insecure ?? bool(E('INSECURE')),
    jwtSecret: v['jwt-secret'] ?? E('JWT_SECRET') ?? readSecretFile(v['jwt-secret-file'] ?? E('JWT_SECRET_FILE')),
    jwtAllowNoExp: v['jwt-allow-no-exp'] ?? bool(E('JWT_ALLOW_NO_EXP')),
    jwksFile: (v['jwks-file'] ?? E('JWKS_FILE')) ? resolve((v['jwks-file'] ?? E('JWKS_FILE'))!) : undefined,
    jwtIssuer: v['jwt-issuer'] ?? E('JWT_ISSUER'),
    jwtAudience: v['jwt-audience'] ?? E('JWT_AUDIENCE'),
    rateLimit: int('rate-limit', v['rate-limit'] ?? E('RATE_LIMIT')),
    authFailureLimit: int('auth-failure-limit', v['auth-failure-limit'] ?? E('AUTH_FAILURE_LIMIT')),
    maxSessions: int('max-sessions', v['max-sessions'] ?? E('MAX_SESSIONS')),
    maxSessionsPerClient: int('max-sessions-per-client', v['max-sessions-per-client'] ?? E('MAX_SESSIONS_PER_CLIENT')),
    modelRateLimit: int('model-rate-limit', v['model-rate-limit'] ?? E('MODEL_RATE_LIMIT')),
    allowedHosts: csv(v['allowed-hosts'] ?? E('ALLOWED_HOSTS')),
    corsOrigins: csv(v['cors-origins'] ?? E('CORS_ORIGINS')),
    maxBodyBytes: bytes(v['max-body-size'] ?? E('MAX_BODY_SIZE'), 'max-body-size'),
    skillsDirs: (v['skills-dir'] ?? csv(E('SKILLS_DIR')) ?? []).map((d) => resolve(d)),
    modelsDir: (v['models-dir'] ?? E('MODELS_DIR')) ? resolve((v['models-dir'] ?? E('MODELS_DIR'))!) : undefined,
    cacheDir: resolve(v['cache-dir'] ?? E('CACHE_DIR') ?? join(homedir(), '.cache', 'hf-model-server')),
    offline: v.offline ?? bool(E('OFFLINE')) ?? false,
    hubEndpoint: v['hub-endpoint'] ?? E('HUB_ENDPOINT') ?? env.HF_ENDPOINT,
    tools: csv(v.tools ?? E('TOOLS')),
    logLevel,
    device: v.device ?? E('DEVICE'),
    threads: int('threads', v.threads ?? E('THREADS')),
    maxConcurrency: int('max-concurrency', v['max-concurrency'] ?? E('MAX_CONCURRENCY')),
    inferenceThread: v['inference-thread'] ?? E('INFERENCE_THREAD'),
    memoryBudget: bytes(v['memory-budget'] ?? E('MEMORY_BUDGET')),
    keepAliveMs: duration('keep-alive', v['keep-alive'] ?? E('KEEP_ALIVE'), false),
    preload: csv(v.preload ?? E('PRELOAD')),
    pin: csv(v.pin ?? E('PIN')),
    maxQueue: int('max-queue', v['max-queue'] ?? E('MAX_QUEUE')),
    cacheBytes: (v['cache-size'] ?? E('CACHE_SIZE')) === '0' ? 0 : bytes(v['cache-size'] ?? E('CACHE_SIZE')),
    deadlineMs: duration('deadline', v.deadline ?? E('DEADLINE')),
    cacheTtlMs: duration('cache-ttl', v['cache-ttl'] ?? E('CACHE_TTL')),
    breakerResetMs: duration('breaker-reset', v['breaker-reset'] ?? E('BREAKER_RESET')),
    batchConcurrency: int('batch-concurrency', v['batch-concurrency'] ?? E('BATCH_CONCURRENCY')),
    media: {
      allowDirs: (v['allow-dir'] ?? csv(E('ALLOW_DIR')))?.map((d) => resolve(d)),
      allowUrls: v['allow-urls'] ?? bool(E('ALLOW_URLS')),
      allowPrivateUrls: v['allow-private-urls'] ?? bool(E('ALLOW_PRIVATE_URLS')),
      maxBytes: bytes(v['max-media-size'] ?? E('MAX_MEDIA_SIZE'), 'max-media-size'),
      maxPixels: int('max-image-pixels', v['max-image-pixels'] ?? E('MAX_IMAGE_PIXELS')),
      memoryBytes: bytes(v['media-memory'] ?? E('MEDIA_MEMORY'), 'media-memory'),
      maxAudioSeconds: (() => {
        const ms = duration('max-audio-duration', v['max-audio-duration'] ?? E('MAX_AUDIO_DURATION'));
        return ms === undefined ? undefined : ms / 1000;
      })(),
    },
    limits: {},
  };
  const r = ConfigSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new ConfigError(`invalid ${issue.path.join('.') || 'config'}: ${issue.message}`);
  }
  return { config: deepFreeze(r.data), help: v.help ?? false, version: v.version ?? false, notes, ...(call ? { call } : {}) };
}

/** Builds a config from partial values (tests, embedding). Validated and frozen like the CLI's. */
export function makeConfig(partial: Partial<z.input<typeof ConfigSchema>> = {}): Config {
  const r = ConfigSchema.safeParse({ cacheDir: join(homedir(), '.cache', 'hf-model-server'), limits: {}, media: {}, ...partial });
  if (!r.success) throw new ConfigError(r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  return deepFreeze(r.data);
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}
