/**
 * @module media/decode-worker
 * The body of a media decoding thread: decodes one recording (media/audio.ts) or image
 * (media/image.ts) at a time and sends the result back. The pixels sharp returns live in memory
 * it allocated, which a transfer would still copy; they are copied once here, off the main
 * thread, into a buffer JavaScript owns, which then moves to the main thread and on to the
 * model's worker without another copy.
 */
import { parentPort } from 'node:worker_threads';
import { toErrorData } from '../errors.js';
import { decodeAudio } from './audio.js';
import { decodeImage } from './image.js';
import type { DecodeJob, DecodeReply } from './decode-pool.js';

const port = parentPort!;

async function decode(job: DecodeJob): Promise<[DecodeReply, ArrayBuffer[]]> {
  if (job.kind === 'audio') {
    const audio = await decodeAudio(job.bytes, job.media, job.field, undefined, job.header);
    return [{ id: job.id, audio }, [audio.samples.buffer as ArrayBuffer]];
  }
  const image = await decodeImage(
    Buffer.from(job.bytes.buffer, job.bytes.byteOffset, job.bytes.byteLength),
    job.media,
    job.field,
    job.header,
  );
  const owned = new Uint8Array(image.data.length);
  owned.set(image.data);
  return [{ id: job.id, image: { ...image, data: owned } }, [owned.buffer]];
}

port.on('message', (job: DecodeJob) => {
  decode(job).then(
    ([reply, transfer]) => port.postMessage(reply, transfer),
    (e: unknown) => port.postMessage({ id: job.id, error: toErrorData(e) } satisfies DecodeReply),
  );
});
