/**
 * @module process/worker-thread
 * Starts a worker thread on a module next to the caller: the compiled `.js` file when the server
 * runs from dist/, or the `.ts` source through tsx when it runs from sources (tests, tsx).
 */
import { Worker } from 'node:worker_threads';

/** Starts `<entry>.js` (or `<entry>.ts` through tsx) beside the module at `callerUrl`. */
export function startWorkerThread(callerUrl: string, entry: string, workerData?: unknown): Worker {
  if (callerUrl.endsWith('.ts')) {
    const source = new URL(`./${entry}.ts`, callerUrl).href;
    const code = `import('tsx/esm/api').then((m) => m.register()).then(() => import(${JSON.stringify(source)}));`;
    return new Worker(code, { eval: true, workerData });
  }
  return new Worker(new URL(`./${entry}.js`, callerUrl), { workerData });
}
