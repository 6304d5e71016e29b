/**
 * @module media/audio
 * Decodes audio bytes to what speech models take: mono float samples at 16 kHz. The format is
 * taken from the bytes' signature, never from a file name or a declared MIME type.
 *
 * Decoding is bounded before and during the work. The header's rate, channels and declared
 * length are checked first (media/audio-header.ts), so a file that asks for too much is refused
 * before a sample is decoded. Then the file is decoded in small pieces: each piece is averaged
 * to mono and resampled at once by a streaming resampler (libsamplerate, MIT, through its wasm
 * build), the frames really produced are counted against the duration limit and against what
 * the header declared, and the call's signal is checked. Only the 16 kHz output is kept, so
 * memory follows the accepted duration, not what a header or a compressed stream claims. The
 * server runs this on its media decoding threads (media/decode-pool.ts), off the event loop.
 *
 * WAV PCM and float are read straight from the file bytes; A-law, mu-law and IMA ADPCM are first
 * expanded to 16-bit PCM by wavefile. MP3, Ogg Vorbis and FLAC go through the wasm-audio-decoders
 * (MIT, no native code), fed a slice at a time.
 */
import { createRequire } from 'node:module';
import { FLACDecoder } from '@wasm-audio-decoders/flac';
import { OggVorbisDecoder } from '@wasm-audio-decoders/ogg-vorbis';
import { MPEGDecoder } from 'mpg123-decoder';
import wavefile from 'wavefile';
import type { Config } from '../config/config.js';
import { ServerError } from '../errors.js';
import { HeaderError, readAudioHeader, readWavHeader, sniffAudio, type AudioFormat, type AudioHeader } from './audio-header.js';

/** The rate speech models take. */
export const TARGET_RATE = 16_000;

/** Source rates accepted: telephone audio up to studio masters. Anything else is refused. */
export const SOURCE_RATES = { min: 4_000, max: 192_000 } as const;
/** Most channels accepted (7.1 surround is 8). */
export const MAX_CHANNELS = 16;

/**
 * Compressed bytes fed to a decoder at a time. It starts small and adapts, so that what one
 * slice expands to stays small even for streams that compress extremely well (a constant FLAC
 * frame of a dozen bytes holds 32,768 samples), while ordinary files go in large slices.
 */
const FEED = { min: 64, start: 256, max: 64 * 1024, targetFrames: 65_536 } as const;
/** WAV frames read at a time. */
const WAV_FRAMES = 16_384;

/** Decoded audio at 16 kHz mono. */
export interface DecodedAudio {
  samples: Float32Array;
  sampleRate: 16000;
  /** Seconds. */
  duration: number;
  format: AudioFormat;
  /** The source's rate and channel count, before conversion. */
  sourceRate: number;
  sourceChannels: number;
  /** Largest absolute sample value (0 = digital silence). */
  peak: number;
}

/** Averages the first `n` frames of `channels` into one. */
export function downmix(channels: Float32Array[], n = Math.min(...channels.map((c) => c.length))): Float32Array {
  if (channels.length === 1) return channels[0]!.length === n ? channels[0]! : channels[0]!.slice(0, n);
  const out = new Float32Array(n);
  const k = 1 / channels.length;
  for (const c of channels) for (let i = 0; i < n; i++) out[i]! += c[i]! * k;
  return out;
}

type Libsamplerate = typeof import('@alexanderolsen/libsamplerate-js');

/**
 * libsamplerate, loaded on first use (the module embeds its wasm and only audio needs it). It is
 * a CommonJS module: `require` gives the same object under Node, tsx and vitest, where an ESM
 * import's default/named interop differs between them (the wave-resampler failure).
 */
function libsamplerate(): Libsamplerate {
  return createRequire(import.meta.url)('@alexanderolsen/libsamplerate-js') as Libsamplerate;
}

/** A streaming mono resampler: push pieces, then finish for the tail. */
interface StreamResampler {
  push(x: Float32Array): Float32Array;
  /** The samples still held in the filter, up to `total` output samples in all. */
  finish(total: number, produced: number): Float32Array;
  free(): void;
}

/** Bandlimited sinc resampling (libsamplerate's fastest sinc converter); identity when the rates match. */
async function streamResampler(from: number, to: number): Promise<StreamResampler> {
  // A copy: decoders may hand out views of buffers they reuse.
  if (from === to) return { push: (x) => x.slice(), finish: () => new Float32Array(0), free: () => undefined };
  const lsr = libsamplerate();
  const src = await lsr.create(1, from, to, { converterType: lsr.ConverterType.SRC_SINC_FASTEST });
  return {
    push: (x) => (x.length ? src.full(x) : x),
    finish: (total, produced) => {
      // The filter holds a short tail; zeros push it out, and the output is cut to the exact length.
      const want = total - produced;
      if (want <= 0) return new Float32Array(0);
      const out = src.full(new Float32Array(Math.ceil((want * from) / to) + 1024));
      return out.subarray(0, want);
    },
    free: () => src.destroy(),
  };
}

/** Resamples a whole mono signal from `from` to `to` Hz (bandlimited sinc). */
export async function resample(samples: Float32Array, from: number, to: number): Promise<Float32Array> {
  if (from === to) return samples;
  const r = await streamResampler(from, to);
  try {
    const head = r.push(samples);
    const total = Math.round((samples.length * to) / from);
    const tail = r.finish(total, head.length);
    const out = new Float32Array(Math.min(total, head.length + tail.length));
    out.set(head.subarray(0, out.length));
    if (head.length < out.length) out.set(tail.subarray(0, out.length - head.length), head.length);
    return out;
  } finally {
    r.free();
  }
}

/** Collects decoded pieces: counts frames against the limit, downmixes, resamples, keeps the output. */
class Collector {
  frames = 0;
  peak = 0;
  private produced = 0;
  private readonly parts: Float32Array[] = [];

  constructor(
    private readonly rate: number,
    private readonly maxFrames: number,
    private readonly resampler: StreamResampler,
    private readonly tooLong: (seconds: number) => ServerError,
    private readonly signal: AbortSignal | undefined,
    /** Frames the header declared, with slack (Infinity when it declares none); producing more means the header lied. */
    private readonly declaredFrames: number,
    private readonly lied: () => ServerError,
  ) {}

  private keep(x: Float32Array): void {
    if (x.length === 0) return;
    for (let i = 0; i < x.length; i++) {
      const a = Math.abs(x[i]!);
      if (a > this.peak) this.peak = a;
    }
    this.parts.push(x);
    this.produced += x.length;
  }

  push(channels: Float32Array[], n: number): void {
    if (n <= 0 || channels.length === 0) return;
    this.frames += n;
    if (this.frames > this.maxFrames) throw this.tooLong(this.frames / this.rate);
    if (this.frames > this.declaredFrames) throw this.lied();
    this.signal?.throwIfAborted();
    this.keep(this.resampler.push(downmix(channels, n)));
  }

  samples(): Float32Array {
    const total = Math.round((this.frames * TARGET_RATE) / this.rate);
    if (this.produced < total) this.keep(this.resampler.finish(total, this.produced));
    const out = new Float32Array(Math.min(total, this.produced));
    let at = 0;
    for (const p of this.parts) {
      if (at >= out.length) break;
      const take = Math.min(p.length, out.length - at);
      out.set(take === p.length ? p : p.subarray(0, take), at);
      at += take;
    }
    return out;
  }
}

/** Reads interleaved PCM or float WAV sample bytes a block at a time. */
function decodeWavPcm(
  bytes: Uint8Array,
  l: { audioFormat: number; bitsPerSample: number; blockAlign: number; channels: number; dataOffset: number; dataBytes: number },
  sink: Collector,
): void {
  const { channels: nch, blockAlign, bitsPerSample: bits } = l;
  const isFloat = l.audioFormat === 3;
  const width = Math.ceil(bits / 8);
  if (!(isFloat ? bits === 32 || bits === 64 : bits >= 8 && bits <= 32) || blockAlign < width * nch) {
    throw new HeaderError(`unsupported sample layout: ${bits}-bit ${isFloat ? 'float' : 'PCM'}, block ${blockAlign} bytes`);
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset + l.dataOffset, l.dataBytes);
  const total = Math.floor(l.dataBytes / blockAlign);
  const scale = 2 ** (width * 8 - 1);
  const read = (o: number): number => {
    if (isFloat) return bits === 32 ? dv.getFloat32(o, true) : dv.getFloat64(o, true);
    if (width === 1) return (dv.getUint8(o) - 128) / 128;
    if (width === 2) return dv.getInt16(o, true) / scale;
    if (width === 3) return (dv.getUint8(o) | (dv.getUint8(o + 1) << 8) | (dv.getInt8(o + 2) << 16)) / scale;
    return dv.getInt32(o, true) / scale;
  };
  for (let f0 = 0; f0 < total; f0 += WAV_FRAMES) {
    const n = Math.min(WAV_FRAMES, total - f0);
    // Fresh arrays per block: at 16 kHz mono the collector keeps them as they are.
    const chans = Array.from({ length: nch }, () => new Float32Array(n));
    for (let i = 0; i < n; i++) {
      const o = (f0 + i) * blockAlign;
      for (let c = 0; c < nch; c++) chans[c]![i] = read(o + c * width);
    }
    sink.push(chans, n);
  }
}

/** WAV: PCM and float directly; A-law, mu-law and IMA ADPCM expanded to 16-bit PCM first. */
function decodeWav(bytes: Uint8Array, sink: Collector): void {
  const l = readWavHeader(bytes);
  if (l.audioFormat === 1 || l.audioFormat === 3) return decodeWavPcm(bytes, l, sink);
  if (![6, 7, 17].includes(l.audioFormat)) throw new HeaderError(`unsupported WAV encoding ${l.audioFormat}`);
  const w = new wavefile.WaveFile();
  w.fromBuffer(bytes);
  if (l.audioFormat === 17) w.fromIMAADPCM();
  else if (l.audioFormat === 6) w.fromALaw();
  else w.fromMuLaw();
  const pcm = (w.data as { samples: Uint8Array }).samples;
  return decodeWavPcm(
    pcm,
    { audioFormat: 1, bitsPerSample: 16, blockAlign: 2 * l.channels, channels: l.channels, dataOffset: 0, dataBytes: pcm.length },
    sink,
  );
}

/** What the wasm audio decoders return per call. */
interface WasmDecoded {
  channelData: Float32Array[];
  samplesDecoded: number;
  sampleRate: number;
  errors: unknown[];
}

interface StreamDecoder {
  ready: Promise<unknown>;
  decode(chunk: Uint8Array): WasmDecoded | Promise<WasmDecoded>;
  flush?(): WasmDecoded | Promise<WasmDecoded>;
  free(): void;
}

/** Feeds a compressed stream to its decoder a slice at a time; frees the decoder whatever happens. */
async function decodeCompressed(format: 'mp3' | 'ogg' | 'flac', bytes: Uint8Array, header: AudioHeader, sink: Collector): Promise<void> {
  const d: StreamDecoder = format === 'mp3' ? new MPEGDecoder() : format === 'flac' ? new FLACDecoder() : new OggVorbisDecoder();
  await d.ready;
  let errors = 0;
  const take = (r: WasmDecoded) => {
    errors += r.errors.length;
    if (r.samplesDecoded > 0 && r.sampleRate !== header.sampleRate)
      throw new HeaderError(`the stream changes rate from ${header.sampleRate} to ${r.sampleRate} Hz`);
    sink.push(r.channelData, r.samplesDecoded);
  };
  try {
    let feed: number = FEED.start;
    for (let at = 0; at < bytes.length;) {
      const before = sink.frames;
      take(await d.decode(bytes.subarray(at, at + feed)));
      at += feed;
      const made = sink.frames - before;
      if (made < FEED.targetFrames / 2) feed = Math.min(FEED.max, feed * 2);
      else if (made > FEED.targetFrames * 2) feed = Math.max(FEED.min, feed >> 1);
    }
    if (d.flush) take(await d.flush());
  } finally {
    d.free();
  }
  if (sink.frames === 0 && errors > 0) throw new Error(`decoder errors: ${errors}`);
}

/**
 * How much longer than its header declares a stream may decode (plus one second): encoder
 * padding and rounding, not a stream that lies about its length to slip past the reservation.
 */
const DECLARED_SLACK = 1.05;
/** Bytes the decode keeps per output second: 16 kHz float32, and the final copy. */
const DECODE_BYTES_PER_SECOND = TARGET_RATE * 4 * 2;

/** The header of an audio input, checked against the limits before anything is decoded. */
export interface CheckedAudioHeader extends AudioHeader {
  /** Estimated bytes the decode holds, for the media budget. */
  decodeBytes: number;
}

/**
 * Identifies the format and checks what the header declares (rate, channels, length) against
 * the limits, without decoding a sample.
 */
export function probeAudio(bytes: Uint8Array, cfg: Config['media'], field = 'audio'): CheckedAudioHeader {
  if (bytes.length === 0) throw new ServerError('invalid_media', `${field} is empty`);
  const format = sniffAudio(bytes);
  if (format === 'opus') throw new ServerError('unsupported_media', `${field} is Ogg Opus; accepted formats: WAV, MP3, Ogg Vorbis, FLAC`);
  if (!format)
    throw new ServerError('unsupported_media', `${field} is not a recognised audio file; accepted formats: WAV, MP3, Ogg Vorbis, FLAC`);
  let header: AudioHeader;
  try {
    header = readAudioHeader(bytes, format);
  } catch (e) {
    throw new ServerError('invalid_media', `${field} could not be decoded as ${format.toUpperCase()}: ${(e as Error).message}`);
  }
  const { sampleRate: rate, channels } = header;
  if (!(rate >= SOURCE_RATES.min && rate <= SOURCE_RATES.max)) {
    throw new ServerError(
      'unsupported_media',
      `${field} declares a ${rate} Hz sample rate; accepted: ${SOURCE_RATES.min} to ${SOURCE_RATES.max} Hz`,
    );
  }
  if (!(channels >= 1 && channels <= MAX_CHANNELS))
    throw new ServerError('unsupported_media', `${field} declares ${channels} channels; accepted: 1 to ${MAX_CHANNELS}`);
  if (header.seconds !== undefined && header.seconds > cfg.maxAudioSeconds) throw tooLong(field, header.seconds, cfg);
  // A length the header does not state is reserved at the limit: the decode may produce that much.
  const seconds = Math.min(cfg.maxAudioSeconds, header.seconds === undefined ? cfg.maxAudioSeconds : header.seconds * DECLARED_SLACK + 1);
  return { ...header, decodeBytes: seconds * DECODE_BYTES_PER_SECOND };
}

function tooLong(field: string, seconds: number, cfg: Config['media']): ServerError {
  return new ServerError(
    'media_too_large',
    `${field} is ${seconds.toFixed(1)} s long, over the ${cfg.maxAudioSeconds} s limit (--max-audio-duration)`,
  );
}

/**
 * Decodes `bytes` to 16 kHz mono under the media limits (the header is checked first unless
 * given). `signal` stops the work between pieces (deadline or cancellation), rethrowing its reason.
 */
export async function decodeAudio(
  bytes: Uint8Array,
  cfg: Config['media'],
  field = 'audio',
  signal?: AbortSignal,
  checked?: AudioHeader,
): Promise<DecodedAudio> {
  const header = checked ?? probeAudio(bytes, cfg, field);
  const { format, sampleRate: rate, channels } = header;
  const bad = (why: string) => new ServerError('invalid_media', `${field} could not be decoded as ${format.toUpperCase()}: ${why}`);
  const resampler = await streamResampler(rate, TARGET_RATE);
  try {
    const declared = header.seconds === undefined ? Infinity : Math.ceil((header.seconds * DECLARED_SLACK + 1) * rate);
    const sink = new Collector(
      rate,
      Math.floor(cfg.maxAudioSeconds * rate),
      resampler,
      (sec) => tooLong(field, sec, cfg),
      signal,
      declared,
      () => bad(`it decodes to more than the ${header.seconds!.toFixed(1)} s its header declares`),
    );
    try {
      if (format === 'wav') decodeWav(bytes, sink);
      else await decodeCompressed(format, bytes, header, sink);
    } catch (e) {
      if (e instanceof ServerError) throw e;
      if (signal?.aborted) throw signal.reason;
      throw bad((e as Error).message);
    }
    if (sink.frames === 0) throw new ServerError('invalid_media', `${field} holds no audio samples`);
    const samples = sink.samples();
    return {
      samples,
      sampleRate: TARGET_RATE,
      duration: samples.length / TARGET_RATE,
      format,
      sourceRate: rate,
      sourceChannels: channels,
      peak: sink.peak,
    };
  } finally {
    resampler.free();
  }
}
