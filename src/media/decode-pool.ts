/**
 * @module media/decode-pool
 * Decodes audio and images on worker threads (media/decode-worker.ts), so a long or hostile
 * recording or a huge image costs a decoding thread, never the event loop. Decoded pixels and
 * samples come back in buffers JavaScript owns, which move between threads without a copy (a
 * 25-megapixel image cloned on the main thread stalled it for tens of milliseconds, twice: once
 * from sharp, once to the model's worker). Threads start on first use, take one job at a time,
 * and jobs beyond them queue in order. A call whose signal fires (deadline, cancellation) while
 * its job runs has its thread terminated, which stops the decode at once; a fresh thread replaces
 * it for the next job.
 */
import type { Worker } from 'node:worker_threads';
import { startWorkerThread } from '../process/worker-thread.js';
import type { Config } from '../config/config.js';
import { ServerError, fromErrorData, type ErrorData } from '../errors.js';
import type { AudioHeader } from './audio-header.js';
import type { DecodedAudio } from './audio.js';
import type { DecodedImage, ImageHeader } from './image.js';

/** A decode request, as it crosses to the thread. */
export type DecodeJob = { id: number; bytes: Uint8Array; media: Config['media']; field: string } & (
  { kind: 'audio'; header: AudioHeader } | { kind: 'image'; header: ImageHeader }
);

/** The thread's answer. */
export interface DecodeReply {
  id: number;
  audio?: DecodedAudio;
  image?: DecodedImage;
  error?: ErrorData;
}

interface Job {
  job: DecodeJob;
  client: string;
  signal: AbortSignal | undefined;
  resolve(r: DecodeReply): void;
  reject(e: unknown): void;
}

export class MediaDecoders {
  private readonly idle: Worker[] = [];
  private readonly queue: Job[] = [];
  private running = 0;
  /** Jobs running per client. */
  private readonly runningBy = new Map<string, number>();
  private nextId = 0;
  private closed = false;

  constructor(readonly threads: number) {}

  /** Decodes audio (whose header was checked) to 16 kHz mono on a decoding thread. */
  async audio(
    bytes: Uint8Array,
    media: Config['media'],
    field: string,
    header: AudioHeader,
    signal?: AbortSignal,
    client = '',
  ): Promise<DecodedAudio> {
    return (await this.submit({ id: this.nextId++, kind: 'audio', bytes, media, field, header }, signal, client)).audio!;
  }

  /** Decodes an image (whose header was checked) to RGB pixels on a decoding thread. */
  async image(
    bytes: Uint8Array,
    media: Config['media'],
    field: string,
    header: ImageHeader,
    signal?: AbortSignal,
    client = '',
  ): Promise<DecodedImage> {
    return (await this.submit({ id: this.nextId++, kind: 'image', bytes, media, field, header }, signal, client)).image!;
  }

  private submit(job: DecodeJob, signal: AbortSignal | undefined, client: string): Promise<DecodeReply> {
    if (this.closed) return Promise.reject(new ServerError('shutting_down', 'the media decoders are closed'));
    signal?.throwIfAborted();
    return new Promise((resolve, reject) => {
      this.queue.push({ job, client, signal, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.queue.length > 0 && this.running < this.threads) {
      let at = 0;
      for (let i = 1; i < this.queue.length; i++)
        if ((this.runningBy.get(this.queue[i]!.client) ?? 0) < (this.runningBy.get(this.queue[at]!.client) ?? 0)) at = i;
      const j = this.queue.splice(at, 1)[0]!;
      if (j.signal?.aborted) {
        j.reject(j.signal.reason);
        continue;
      }
      this.running++;
      this.runningBy.set(j.client, (this.runningBy.get(j.client) ?? 0) + 1);
      this.run(this.idle.pop() ?? startWorkerThread(import.meta.url, 'decode-worker'), j);
    }
  }

  private run(w: Worker, j: Job): void {
    let settled = false;
    const done = (keep: boolean) => {
      settled = true;
      w.off('message', onMessage);
      w.off('error', onError);
      w.off('exit', onExit);
      j.signal?.removeEventListener('abort', onAbort);
      this.running--;
      const left = (this.runningBy.get(j.client) ?? 1) - 1;
      if (left > 0) this.runningBy.set(j.client, left);
      else this.runningBy.delete(j.client);
      if (keep && !this.closed) this.idle.push(w);
      else void w.terminate();
      this.pump();
    };
    const onMessage = (r: DecodeReply) => {
      if (r.id !== j.job.id || settled) return;
      done(true);
      if (r.error) j.reject(fromErrorData(r.error));
      else j.resolve(r);
    };
    const onError = (e: Error) => {
      if (settled) return;
      done(false);
      j.reject(new ServerError('invalid_media', `${j.job.field} could not be decoded: ${e.message}`));
    };
    const onExit = (code: number) => {
      if (settled) return;
      done(false);
      j.reject(new ServerError('internal', `the media decoding thread exited (code ${code})`));
    };
    const onAbort = () => {
      if (settled) return;
      done(false);
      j.reject(j.signal!.reason);
    };
    w.on('message', onMessage);
    w.on('error', onError);
    w.on('exit', onExit);
    j.signal?.addEventListener('abort', onAbort, { once: true });
    w.postMessage(j.job);
  }

  /** Stops every thread; queued jobs fail with shutting_down. */
  async close(): Promise<void> {
    this.closed = true;
    for (const j of this.queue.splice(0)) j.reject(new ServerError('shutting_down', 'the media decoders are closed'));
    await Promise.all(this.idle.splice(0).map((w) => w.terminate()));
  }
}
