/**
 * @module media/image
 * Decodes image bytes with sharp into interleaved 8-bit RGB. EXIF orientation is applied, alpha
 * is flattened onto white (transparent screenshots read as dark-on-white), and the pixel limit is
 * checked from the header before any pixel is decoded. SVG and other vector or document formats
 * are refused: they can reference external files and have no fixed pixel size.
 */
import sharp from 'sharp';
import type { Config } from '../config/config.js';
import { ServerError } from '../errors.js';

/** Raster formats accepted, as sharp names them. */
export const IMAGE_FORMATS = ['jpeg', 'png', 'webp', 'gif', 'tiff', 'heif', 'avif'] as const;

/** A decoded image: interleaved RGB bytes. */
export interface DecodedImage {
  data: Uint8Array;
  width: number;
  height: number;
  channels: 3;
  format: string;
}

/** Decodes `bytes` under the media limits. */
export async function decodeImage(bytes: Buffer, cfg: Config['media'], field = 'image'): Promise<DecodedImage> {
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
    throw new ServerError('media_too_large', `${field} is ${w}x${h} = ${w * h} pixels, over the ${cfg.maxPixels}-pixel limit (--max-image-pixels)`);
  }
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
