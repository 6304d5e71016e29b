/**
 * @module logger
 * pino writing to stderr (fd 2). In stdio mode stdout belongs to the MCP protocol, so nothing in
 * `src/` may write there; every log line goes through a logger made here.
 */
import { pino, type Logger } from 'pino';

export type { Logger } from 'pino';

/** Log levels accepted by `--log-level`. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** A JSON logger on stderr. Default level `info`. */
export function createLogger(level: LogLevel = 'info'): Logger {
  return pino({ level, base: { name: 'hf-model-server' } }, pino.destination({ fd: 2, sync: true }));
}
