/**
 * @module media/audio-header
 * Reads what an audio file declares about itself (rate, channels, length) from its header,
 * without decoding a sample, so the limits can refuse a file before it costs memory or time.
 * A header can lie: decoding still counts the frames it really produces (media/audio.ts). The
 * length is undefined when the format does not state it (MP3 without a Xing/Info frame, FLAC
 * with a zero sample count, an Ogg stream without a final granule position).
 */

/** Formats recognised by signature. */
export type AudioFormat = 'wav' | 'mp3' | 'ogg' | 'flac';

/** What a header declares. */
export interface AudioHeader {
  format: AudioFormat;
  sampleRate: number;
  channels: number;
  /** Declared length in seconds, when the header states it. */
  seconds: number | undefined;
}

/** WAV-specific layout, for the chunked PCM reader. */
export interface WavLayout extends AudioHeader {
  format: 'wav';
  /** WAVE_FORMAT tag (an extensible file's sub-format): 1 PCM, 3 float, 6 A-law, 7 mu-law, 17 IMA ADPCM. */
  audioFormat: number;
  bitsPerSample: number;
  blockAlign: number;
  /** Where the sample bytes start and how many there are (clipped to the file). */
  dataOffset: number;
  dataBytes: number;
}

/** Identifies the container from its first bytes. */
export function sniffAudio(b: Uint8Array): AudioFormat | 'opus' | undefined {
  const ascii = (o: number, n: number) => String.fromCharCode(...b.subarray(o, o + n));
  if (b.length >= 12 && (ascii(0, 4) === 'RIFF' || ascii(0, 4) === 'RF64') && ascii(8, 4) === 'WAVE') return 'wav';
  if (b.length >= 4 && ascii(0, 4) === 'fLaC') return 'flac';
  if (b.length >= 4 && ascii(0, 4) === 'OggS') {
    const head = ascii(0, Math.min(b.length, 128));
    if (head.includes('OpusHead')) return 'opus';
    return 'ogg';
  }
  if (b.length >= 3 && ascii(0, 3) === 'ID3') return 'mp3';
  if (b.length >= 2 && b[0] === 0xff && (b[1]! & 0xe0) === 0xe0) return 'mp3';
  return undefined;
}

/** Thrown for a header that cannot be read; the caller maps it to `invalid_media`. */
export class HeaderError extends Error {}

const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);

/** Parses the RIFF chunks up to `data`. */
export function readWavHeader(b: Uint8Array): WavLayout {
  const dv = view(b);
  let fmt: { audioFormat: number; channels: number; sampleRate: number; byteRate: number; blockAlign: number; bits: number } | undefined;
  let at = 12;
  while (at + 8 <= b.length) {
    const id = String.fromCharCode(...b.subarray(at, at + 4));
    const size = dv.getUint32(at + 4, true);
    const body = at + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + 16 > b.length) throw new HeaderError('truncated fmt chunk');
      const tag = dv.getUint16(body, true);
      // WAVE_FORMAT_EXTENSIBLE names the real format in the first two bytes of its sub-format GUID.
      const audioFormat = tag === 65534 && size >= 26 && body + 26 <= b.length ? dv.getUint16(body + 24, true) : tag;
      fmt = {
        audioFormat,
        channels: dv.getUint16(body + 2, true),
        sampleRate: dv.getUint32(body + 4, true),
        byteRate: dv.getUint32(body + 8, true),
        blockAlign: dv.getUint16(body + 12, true),
        bits: dv.getUint16(body + 14, true),
      };
    } else if (id === 'data') {
      if (!fmt) throw new HeaderError('data chunk before fmt chunk');
      // RF64 and streamed files put 0xFFFFFFFF here: the data runs to the end of the file.
      const dataBytes = Math.min(size, b.length - body);
      const rate = fmt.audioFormat === 17 ? fmt.byteRate : fmt.blockAlign * fmt.sampleRate;
      if (!(rate > 0)) throw new HeaderError('zero byte rate');
      return {
        format: 'wav',
        sampleRate: fmt.sampleRate,
        channels: fmt.channels,
        seconds: dataBytes / rate,
        audioFormat: fmt.audioFormat,
        bitsPerSample: fmt.bits,
        blockAlign: fmt.blockAlign,
        dataOffset: body,
        dataBytes,
      };
    }
    at = body + size + (size & 1);
  }
  throw new HeaderError(fmt ? 'no data chunk' : 'no fmt chunk');
}

/** FLAC STREAMINFO: the first metadata block. */
function readFlacHeader(b: Uint8Array): AudioHeader {
  if (b.length < 8 + 34 || (b[4]! & 0x7f) !== 0) throw new HeaderError('no STREAMINFO block');
  const o = 8 + 10;
  const sampleRate = (b[o]! << 12) | (b[o + 1]! << 4) | (b[o + 2]! >> 4);
  const channels = ((b[o + 2]! >> 1) & 7) + 1;
  const total = (b[o + 3]! & 0x0f) * 2 ** 32 + view(b).getUint32(o + 4, false);
  return { format: 'flac', sampleRate, channels, seconds: total > 0 && sampleRate > 0 ? total / sampleRate : undefined };
}

/** Ogg Vorbis: the identification packet, and the last page's granule position for the length. */
function readOggHeader(b: Uint8Array): AudioHeader {
  const head = Buffer.from(b.buffer, b.byteOffset, Math.min(b.length, 4096));
  const at = head.indexOf('\x01vorbis', 0, 'latin1');
  if (at < 0 || at + 16 > b.length) throw new HeaderError('no Vorbis identification header');
  const dv = view(b);
  const channels = b[at + 11]!;
  const sampleRate = dv.getUint32(at + 12, true);
  const tail = Buffer.from(b.buffer, b.byteOffset, b.length);
  const last = tail.lastIndexOf('OggS', b.length - 27, 'latin1');
  let seconds: number | undefined;
  if (last >= 0 && last + 14 <= b.length && sampleRate > 0) {
    const granule = dv.getUint32(last + 6, true) + dv.getUint32(last + 10, true) * 2 ** 32;
    if (granule > 0 && granule < 2 ** 52) seconds = granule / sampleRate;
  }
  return { format: 'ogg', sampleRate, channels, seconds };
}

const MPEG_RATES: Record<number, readonly number[]> = { 3: [44100, 48000, 32000], 2: [22050, 24000, 16000], 0: [11025, 12000, 8000] };
/** kbit/s by [MPEG-1?][layer][index]; index 0 is free format, 15 is invalid. */
const MPEG_BITRATES = {
  v1: {
    3: [0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448],
    2: [0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384],
    1: [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
  },
  v2: {
    3: [0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256],
    2: [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
    1: [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
  },
} as const;

/** One MPEG audio frame header. `bytes` is 0 for free-format frames, whose length is not stated. */
interface MpegFrame {
  sampleRate: number;
  mono: boolean;
  samples: number;
  bytes: number;
  version: number;
}

function mpegFrame(b: Uint8Array, at: number): MpegFrame | undefined {
  if (at + 4 > b.length || b[at] !== 0xff || (b[at + 1]! & 0xe0) !== 0xe0) return undefined;
  const version = (b[at + 1]! >> 3) & 3;
  const layerBits = (b[at + 1]! >> 1) & 3;
  const rateIdx = (b[at + 2]! >> 2) & 3;
  const brIdx = b[at + 2]! >> 4;
  const rates = MPEG_RATES[version];
  if (!rates || layerBits === 0 || rateIdx === 3 || brIdx === 15) return undefined;
  const layer = (4 - layerBits) as 1 | 2 | 3;
  const sampleRate = rates[rateIdx]!;
  const pad = (b[at + 2]! >> 1) & 1;
  const kbps = (version === 3 ? MPEG_BITRATES.v1 : MPEG_BITRATES.v2)[layerBits as 1 | 2 | 3][brIdx]!;
  const samples = layer === 1 ? 384 : layer === 3 && version !== 3 ? 576 : 1152;
  const bytes =
    kbps === 0
      ? 0
      : layer === 1
        ? (Math.floor((12000 * kbps) / sampleRate) + pad) * 4
        : Math.floor(((samples / 8) * 1000 * kbps) / sampleRate) + pad;
  return { sampleRate, mono: b[at + 3]! >> 6 === 3, samples, bytes, version };
}

/**
 * MP3: the first frame header after any ID3v2 tag. The length comes from a Xing/Info frame, or
 * else from walking the frame headers to the end (each states its own length); it is undefined
 * for free-format streams.
 */
function readMp3Header(b: Uint8Array): AudioHeader {
  let at = 0;
  if (b.length >= 10 && b[0] === 0x49 && b[1] === 0x44 && b[2] === 0x33) {
    const size = ((b[6]! & 0x7f) << 21) | ((b[7]! & 0x7f) << 14) | ((b[8]! & 0x7f) << 7) | (b[9]! & 0x7f);
    at = 10 + size + (b[5]! & 0x10 ? 10 : 0);
  }
  const end = Math.min(b.length - 4, at + 64 * 1024);
  let first: MpegFrame | undefined;
  for (; at < end; at++) {
    first = mpegFrame(b, at);
    // A real first frame is followed by another (or the end of the file): this skips false syncs.
    if (first && (first.bytes === 0 || at + first.bytes >= b.length - 4 || mpegFrame(b, at + first.bytes))) break;
    first = undefined;
  }
  if (!first) throw new HeaderError('no MPEG frame header');
  const { sampleRate, mono } = first;
  const side = first.version === 3 ? (mono ? 17 : 32) : mono ? 9 : 17;
  const x = at + 4 + side;
  if (x + 12 <= b.length) {
    const tag = String.fromCharCode(...b.subarray(x, x + 4));
    if ((tag === 'Xing' || tag === 'Info') && b[x + 7]! & 1) {
      return { format: 'mp3', sampleRate, channels: mono ? 1 : 2, seconds: (view(b).getUint32(x + 8, false) * first.samples) / sampleRate };
    }
  }
  if (first.bytes === 0) return { format: 'mp3', sampleRate, channels: mono ? 1 : 2, seconds: undefined };
  let samples = 0;
  for (let p = at; p < b.length - 4;) {
    const f = mpegFrame(b, p);
    if (f && f.bytes > 0) {
      samples += f.samples;
      p += f.bytes;
    } else p++; // junk between frames: resynchronise
  }
  return { format: 'mp3', sampleRate, channels: mono ? 1 : 2, seconds: samples / sampleRate };
}

/** Reads the header of `format`; throws HeaderError when it is missing or malformed. */
export function readAudioHeader(b: Uint8Array, format: AudioFormat): AudioHeader {
  if (format === 'wav') return readWavHeader(b);
  if (format === 'flac') return readFlacHeader(b);
  if (format === 'ogg') return readOggHeader(b);
  return readMp3Header(b);
}
