/**
 * Bad media inputs get isError with a stable code, and the server keeps serving: corrupt and
 * unsupported images, images over the pixel limit, empty and silent audio, paths outside the
 * allowed folders (.., absolute, symlinks), URLs while disabled, and private addresses.
 */
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorOf, startServer, type Harness } from '../helpers/server.js';
import { PAGE, png, signal, wav } from '../helpers/media.js';

let h: Harness;
let urls: Harness;
let root: string;
let web: Server;
let port: number;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'hfms-allowed-'));
  const outside = mkdtempSync(join(tmpdir(), 'hfms-outside-'));
  writeFileSync(join(outside, 'secret.png'), await png(8, 8));
  symlinkSync(join(outside, 'secret.png'), join(root, 'link.png'));
  symlinkSync(outside, join(root, 'linkdir'));
  mkdirSync(join(root, 'sub'));
  writeFileSync(join(root, 'sub', 'ok.png'), await png(64, 48));
  writeFileSync(join(root, 'notes.txt'), 'just text, not an image');
  h = await startServer({ media: { allowDirs: [root], maxPixels: 100_000 } });
  urls = await startServer({ media: { allowDirs: [root], allowUrls: true } });
  web = createServer((_req, res) => res.end('x'));
  await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
  port = (web.address() as AddressInfo).port;
}, 120_000);
afterAll(async () => {
  await h?.close();
  await urls?.close();
  web?.close();
});

const b64 = (b: Buffer) => b.toString('base64');

describe('bad media inputs', () => {
  it('images: corrupt bytes, unsupported format, over the pixel limit, bad base64, both or neither source', async () => {
    const png64 = await png(64, 48);
    const corrupt = Buffer.concat([png64.subarray(0, 60), Buffer.alloc(200, 7)]);
    expect(errorOf(await h.call('ocr', { image_base64: b64(corrupt) })).code).toBe('invalid_media');
    expect(errorOf(await h.call('ocr', { image_base64: b64(Buffer.from('not an image at all')) })).code).toBe('invalid_media');
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>');
    expect(errorOf(await h.call('ocr', { image_base64: b64(svg) })).code).toBe('unsupported_media');
    expect(errorOf(await h.call('ocr', { image_base64: b64(await png(400, 300)) })).code).toBe('media_too_large');
    expect(errorOf(await h.call('ocr', { image_base64: '@@not base64@@' })).code).toBe('invalid_media');
    expect(errorOf(await h.call('ocr', { image_base64: '' })).code).toBe('invalid_media');
    expect(errorOf(await h.call('ocr', {})).code).toBe('invalid_input');
    expect(errorOf(await h.call('ocr', { image: join(root, 'sub', 'ok.png'), image_base64: b64(png64) })).code).toBe('invalid_input');
    expect(errorOf(await h.call('detect', { image: join(root, 'notes.txt'), mode: 'text' })).code).toBe('invalid_media');
  });

  it('audio: empty, no samples, unsupported, silent', async () => {
    expect(errorOf(await h.call('detect_speech', { audio_base64: '' })).code).toBe('invalid_media');
    expect(errorOf(await h.call('detect_speech', { audio_base64: b64(wav([])) })).code).toBe('invalid_media');
    expect(errorOf(await h.call('detect_speech', { audio_base64: b64(Buffer.from('RIFF....WAVEjunk')) })).code).toBe('invalid_media');
    expect(errorOf(await h.call('transcribe', { audio_base64: b64(Buffer.from('hello, I am text')) })).code).toBe('unsupported_media');
    const silent = wav(new Float32Array(16000 * 2));
    expect(errorOf(await h.call('transcribe', { audio_base64: b64(silent) })).code).toBe('silent_audio');
    expect(errorOf(await h.call('detect_speech', { audio_base64: b64(silent) })).code).toBe('silent_audio');
  });

  it('paths outside the allowed folders: .., absolute, symlinked file and folder', async () => {
    for (const image of [
      join(root, '..', 'etc', 'passwd'),
      join(root, 'sub', '..', '..', 'hfms-x.png'),
      '/etc/passwd',
      PAGE, // the repository is not an allowed folder of this server
      join(root, 'link.png'),
      join(root, 'linkdir', 'secret.png'),
      join(root, 'linkdir', 'missing.png'),
      `file://${join(root, 'link.png')}`,
    ]) {
      expect(errorOf(await h.call('ocr', { image })).code, image).toBe('path_not_allowed');
    }
    // A missing file inside the allowed folder is not found (it could be nowhere else).
    expect(errorOf(await h.call('ocr', { image: join(root, 'missing.png') })).code).toBe('file_not_found');
    // ... while a file inside the allowed folder, even through `..` that stays inside, is read.
    const ok = await h.call('detect', { image: join(root, 'sub', '..', 'sub', 'ok.png'), mode: 'text' });
    expect(ok.isError).toBeFalsy();
  });

  it('URLs: refused while disabled; private, loopback and link-local targets refused while enabled', async () => {
    expect(errorOf(await h.call('ocr', { image: `http://127.0.0.1:${port}/a.png` })).code).toBe('url_not_allowed');
    expect(errorOf(await h.call('ocr', { image: 'https://example.com/a.png' })).code).toBe('url_not_allowed');
    for (const image of [
      `http://127.0.0.1:${port}/a.png`,
      `http://localhost:${port}/a.png`,
      'http://10.0.0.8/a.png',
      'http://192.168.1.1/a.png',
      'http://169.254.169.254/latest/meta-data',
      'http://[::1]/a.png',
      'http://[::ffff:127.0.0.1]/a.png',
      'ftp://example.com/a.png',
    ]) {
      expect(errorOf(await urls.call('ocr', { image })).code, image).toBe('url_not_allowed');
    }
  });

  it('keeps serving after every bad input', async () => {
    const out = await h.call('detect_speech', { audio_base64: b64(wav(signal(1))) });
    expect(out.isError, JSON.stringify(out.content)).toBeFalsy();
    const ok = await h.call('embed', { texts: ['still here'] });
    expect(ok.isError, JSON.stringify(ok.content)).toBeFalsy();
  });
});
