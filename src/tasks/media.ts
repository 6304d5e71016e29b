/**
 * @module tasks/media
 * The media arguments vision and audio tools share: `image` / `audio` (a path, URL or data:
 * URI) or `image_base64` / `audio_base64`, exactly one of each pair, decoded under the
 * configured limits (media/).
 */
import { z } from 'zod';
import type { Config } from '../config/config.js';
import { ServerError } from '../errors.js';
import type { AudioSamples, ImagePixels } from '../backends/types.js';
import { probeAudio, type DecodedAudio } from '../media/audio.js';
import type { MediaDecoders } from '../media/decode-pool.js';
import type { MediaBudget } from '../media/budget.js';
import { DECODE_BYTES_PER_PIXEL, probeImage } from '../media/image.js';
import { decodeBase64, loadMedia } from '../media/source.js';

const SOURCES = 'a path in the allowed folders, an http(s) URL or a data: URI';

/** The image argument pair. */
export const imageFields = {
  image: z.string().optional().describe(`Image file: ${SOURCES}.`),
  image_base64: z.string().optional().describe('Instead of `image`: the file as base64.'),
};

/** The audio argument pair. */
export const audioFields = {
  audio: z.string().optional().describe(`Audio file (WAV, MP3, Ogg, FLAC): ${SOURCES}.`),
  audio_base64: z.string().optional().describe('Instead of `audio`: the file as base64.'),
};

async function bytesOf(
  ref: string | undefined,
  b64: string | undefined,
  name: string,
  cfg: Config['media'],
  signal: AbortSignal,
): Promise<Buffer> {
  if ((ref === undefined) === (b64 === undefined))
    throw new ServerError('invalid_input', `give exactly one of \`${name}\` or \`${name}_base64\``);
  if (b64 !== undefined) return decodeBase64(b64, cfg, `${name}_base64`);
  return (await loadMedia(ref!, cfg, name, signal)).bytes;
}

/** What media decoding needs: the limits and the budget of decoded bytes in flight. */
export interface MediaDeps {
  config: { media: Config['media'] };
  mediaBudget: MediaBudget;
  mediaDecoders: MediaDecoders;
}

/**
 * Loads the call's image, checks its header, reserves its decoded size in the media budget,
 * decodes it on a decoding thread and runs `fn` on it; the reservation is returned when `fn` ends, so images waiting
 * in the queue count too.
 */
export async function withImage<T>(
  args: { image?: string | undefined; image_base64?: string | undefined },
  deps: MediaDeps,
  ctx: { signal: AbortSignal; client: string },
  fn: (image: ImagePixels & { format: string }) => Promise<T>,
): Promise<T> {
  const { signal, client } = ctx;
  const cfg = deps.config.media;
  const bytes = await bytesOf(args.image, args.image_base64, 'image', cfg, signal);
  const header = await probeImage(bytes, cfg);
  const release = await deps.mediaBudget.acquire(header.width * header.height * DECODE_BYTES_PER_PIXEL, signal, client);
  try {
    return await fn(await deps.mediaDecoders.image(bytes, cfg, 'image', header, signal, client));
  } finally {
    release();
  }
}

/**
 * Loads the call's audio, checks its header, reserves its decoded size, decodes it on a decoding
 * thread (digital silence is refused with `silent_audio`) and runs `fn` on it, like {@link withImage}.
 */
export async function withAudio<T>(
  args: { audio?: string | undefined; audio_base64?: string | undefined },
  deps: MediaDeps,
  ctx: { signal: AbortSignal; client: string },
  fn: (audio: DecodedAudio & AudioSamples) => Promise<T>,
): Promise<T> {
  const { signal, client } = ctx;
  const cfg = deps.config.media;
  const bytes = await bytesOf(args.audio, args.audio_base64, 'audio', cfg, signal);
  const header = probeAudio(bytes, cfg);
  const release = await deps.mediaBudget.acquire(header.decodeBytes, signal, client);
  try {
    const a = await deps.mediaDecoders.audio(bytes, cfg, 'audio', header, signal, client);
    if (a.peak < SILENCE_PEAK)
      throw new ServerError('silent_audio', `audio is silent (peak amplitude ${a.peak.toExponential(1)} over ${a.duration.toFixed(2)} s)`);
    return await fn(a);
  } finally {
    release();
  }
}

/** Peak amplitude below which audio counts as digital silence (about -80 dBFS). */
export const SILENCE_PEAK = 1e-4;

/** Whether a call's media travels inline (so the response cache may key on it). */
export function inlineMedia(ref: string | undefined, b64: string | undefined): boolean {
  return b64 !== undefined || (ref !== undefined && /^data:/i.test(ref.trim()));
}
