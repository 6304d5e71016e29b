/**
 * @module media/audio-worker
 * The body of an audio decoding thread: decodes one recording at a time with media/audio.ts and
 * sends the 16 kHz samples back (transferred, not copied). Decoding is CPU work in wasm and
 * JavaScript; here it cannot delay the main thread's event loop (protocol I/O, health checks).
 */
import { parentPort } from 'node:worker_threads';
import { toServerError } from '../errors.js';
import { decodeAudio } from './audio.js';
import type { AudioJob, AudioReply } from './audio-pool.js';

const port = parentPort!;
port.on('message', (job: AudioJob) => {
  decodeAudio(job.bytes, job.media, job.field, undefined, job.header).then(
    (audio) => port.postMessage({ id: job.id, audio } satisfies AudioReply, [audio.samples.buffer as ArrayBuffer]),
    (e: unknown) => {
      const err = toServerError(e);
      port.postMessage({ id: job.id, error: { code: err.code, message: err.message } } satisfies AudioReply);
    },
  );
});
