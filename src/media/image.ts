/**
 * @module media/image
 * Decodes image bytes with sharp into interleaved 8-bit RGB. EXIF orientation is applied, alpha
 * is flattened onto white (transparent screenshots read as dark-on-white), and the pixel limit
 * and aspect ratio are checked from the header before any pixel is decoded. SVG and other vector
 * or document formats are refused: they can reference external files and have no fixed pixel size.
 */
import sharp from 'sharp';
import type { Config } from '../config/config.js';
import { ServerError } from '../errors.js';

/** Raster formats accepted, as sharp names them. */
export const IMAGE_FORMATS = ['jpeg', 'png', 'webp', 'gif', 'tiff', 'heif', 'avif'] as const;

/**
 * Longest side over shortest side accepted. Vision models resize to near-square inputs and OCR
 * reads lines, so a 25,000,000 x 1 strip helps no model and only costs memory.
 */
export const MAX_ASPECT = 100;

/**
 * Bytes a decode may hold per pixel: the RGB(A) output plus the intermediate copies sharp makes
 * while rotating and flattening. Used to reserve room in the media budget.
 */
export const DECODE_BYTES_PER_PIXEL = 8;

/** What the header says, once it passed the checks. */
export interface ImageHeader {
  width: number;
  height: number;
  format: string;
}

/** A decoded image: interleaved RGB bytes. */
export interface DecodedImage {
  data: Uint8Array;
  width: number;
  height: number;
  channels: 3;
  format: string;
}

/** Reads and checks the header: format, pixel limit, aspect ratio. No pixel is decoded. */
export async function probeImage(bytes: Buffer, cfg: Config['media'], field = 'image'): Promise<ImageHeader> {
  if (bytes.length === 0) throw new ServerError('invalid_media', `${field} is empty`);
  let meta: Awaited<ReturnType<ReturnType<typeof sharp>['metadata']>>;
  try {
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (e) {
    throw new ServerError('invalid_media', `${field} is not a readable image: ${(e as Error).message}`);
  }
  const format = String(meta.format ?? 'unknown');
  if (!(IMAGE_FORMATS as readonly string[]).includes(format)) {
    throw new ServerError('unsupported_media', `${field} is ${format}; accepted formats: JPEG, PNG, WebP, GIF, TIFF, AVIF/HEIF`);
  }
  const w = meta.width ?? 0;
  const h = meta.height ?? 0;
  if (w * h > cfg.maxPixels) {
    throw new ServerError(
      'media_too_large',
      `${field} is ${w}x${h} = ${w * h} pixels, over the ${cfg.maxPixels}-pixel limit (--max-image-pixels)`,
    );
  }
  if (w > 0 && h > 0 && Math.max(w, h) / Math.min(w, h) > MAX_ASPECT) {
    throw new ServerError(
      'media_too_large',
      `${field} is ${w}x${h}, more than ${MAX_ASPECT} times longer than it is wide; crop or split it`,
    );
  }
  return { width: w, height: h, format };
}

/** Decodes `bytes` under the media limits (the header is read first unless given). */
export async function decodeImage(bytes: Buffer, cfg: Config['media'], field = 'image', header?: ImageHeader): Promise<DecodedImage> {
  const { format } = header ?? (await probeImage(bytes, cfg, field));
  try {
    const { data, info } = await sharp(bytes, { limitInputPixels: cfg.maxPixels, failOn: 'error' })
      .rotate()
      .flatten({ background: '#ffffff' })
      .toColourspace('srgb')
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels`);
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height, channels: 3, format };
  } catch (e) {
    throw new ServerError('invalid_media', `${field} could not be decoded (${format}): ${(e as Error).message}`);
  }
}
