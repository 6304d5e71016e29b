/**
 * @module rest/subtitles
 * Timestamped transcript segments as SRT or WebVTT subtitles (OpenAI's `srt` and `vtt`
 * transcription formats).
 */

/** `seconds` as HH:MM:SS,mmm (SRT) or HH:MM:SS.mmm (VTT). */
export function timecode(seconds: number, sep: ',' | '.'): string {
  const ms = Math.max(0, Math.round(seconds * 1000));
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${pad(Math.floor(ms / 3_600_000))}:${pad(Math.floor(ms / 60_000) % 60)}:${pad(Math.floor(ms / 1000) % 60)}${sep}${pad(ms % 1000, 3)}`;
}

/** Subtitles for `segments`; an open end runs to the next segment's start or the end of the audio. */
export function subtitles(
  segments: Array<{ text: string; start: number | null; end: number | null }>,
  format: 'srt' | 'vtt',
  duration: number,
): string {
  const sep = format === 'srt' ? ',' : '.';
  const cues = segments
    .filter((s) => s.text.trim() !== '')
    .map((s, i, all) => {
      const start = s.start ?? 0;
      const end = s.end ?? all[i + 1]?.start ?? duration;
      const line = `${timecode(start, sep)} --> ${timecode(Math.max(start, end), sep)}\n${s.text.trim()}\n`;
      return format === 'srt' ? `${i + 1}\n${line}` : line;
    });
  return format === 'srt' ? cues.join('\n') : `WEBVTT\n\n${cues.join('\n')}`;
}
