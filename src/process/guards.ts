/**
 * @module process/guards
 * Keeps the server up when some code path forgets to handle a rejected promise: the rejection is
 * logged with its context (message, stack) and the process goes on serving everyone else.
 */
import type { Logger } from '../logger.js';

/** Installs the guard once; returns a function that removes it (tests). */
export function installRejectionGuard(logger: Logger): () => void {
  const onRejection = (reason: unknown) => {
    const err = reason instanceof Error ? { message: reason.message, stack: reason.stack } : { value: String(reason) };
    logger.error({ err, event: 'unhandled_rejection' }, 'unhandled promise rejection (the server keeps running)');
  };
  process.on('unhandledRejection', onRejection);
  return () => process.off('unhandledRejection', onRejection);
}
