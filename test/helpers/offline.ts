/**
 * transformers.js configured the way every test needs: no Hub, no filesystem cache.
 */
import { env } from '@huggingface/transformers';

env.allowRemoteModels = false;
env.useFSCache = false;

export { env };
/** Pipeline options for deterministic CPU runs. */
export const CPU = { device: 'cpu', session_options: { intraOpNumThreads: 1 } } as const;
