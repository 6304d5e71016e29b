/**
 * @module rest/multipart
 * multipart/form-data uploads (OpenAI's audio transcription, media on the task routes), parsed
 * by @fastify/busboy while the body streams in: a file past the media size limit, too many
 * parts, or an oversized field stops the upload with a catalogued error instead of buffering it.
 */
import type { IncomingMessage } from 'node:http';
import { Busboy, type BusboyFileStream, type BusboyInstance } from '@fastify/busboy';
import { ServerError } from '../errors.js';

/** A parsed form: text fields (repeated names keep every value) and files. */
export interface Form {
  fields: Map<string, string[]>;
  files: Map<string, { bytes: Buffer; filename: string; mimeType: string }>;
}

export interface FormLimits {
  /** Bytes of the whole body (--max-body-size). */
  bodyBytes: number;
  /** Bytes per file (the media limit). */
  fileBytes: number;
  /** Bytes per text field. */
  fieldBytes: number;
  files?: number;
  fields?: number;
}

/** Whether a request carries a multipart form. */
export function isMultipart(req: IncomingMessage): boolean {
  return /^multipart\/form-data\b/i.test(req.headers['content-type'] ?? '');
}

/** Reads a multipart form under `limits`. */
export function readForm(req: IncomingMessage, limits: FormLimits): Promise<Form> {
  const form: Form = { fields: new Map(), files: new Map() };
  return new Promise<Form>((resolve, reject) => {
    let failed = false;
    const fail = (e: ServerError) => {
      if (failed) return;
      failed = true;
      req.unpipe();
      req.resume(); // drain what is left so the answer can be written
      reject(e);
    };
    const tooLarge = () => new ServerError('body_too_large', `request body larger than ${limits.bodyBytes} bytes (--max-body-size)`);
    if (Number(req.headers['content-length'] ?? 0) > limits.bodyBytes) {
      failed = true;
      req.resume();
      reject(tooLarge());
      return;
    }
    let received = 0;
    req.on('data', (c: Buffer) => {
      received += c.length;
      if (received > limits.bodyBytes) fail(tooLarge());
    });
    let bb: BusboyInstance;
    try {
      bb = Busboy({
        headers: req.headers as { 'content-type': string },
        limits: { fileSize: limits.fileBytes, fieldSize: limits.fieldBytes, files: limits.files ?? 4, fields: limits.fields ?? 64 },
      });
    } catch (e) {
      reject(new ServerError('invalid_input', `malformed multipart request: ${(e as Error).message}`));
      return;
    }
    bb.on('file', (name: string, stream: BusboyFileStream, filename: string, _enc: string, mimeType: string) => {
      const chunks: Buffer[] = [];
      // A part cut short (a malformed or truncated body) errors on the part's own stream.
      stream.on('error', (e: Error) => fail(new ServerError('invalid_input', `malformed multipart request: ${e.message}`)));
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('limit', () =>
        fail(new ServerError('media_too_large', `file "${name}" is larger than ${limits.fileBytes} bytes (--max-media-size)`)),
      );
      stream.on('end', () => {
        if (!stream.truncated) form.files.set(name, { bytes: Buffer.concat(chunks), filename, mimeType });
      });
    });
    bb.on('field', (name: string, value: string, _nameTruncated: boolean, valueTruncated: boolean) => {
      if (valueTruncated) return fail(new ServerError('input_too_large', `form field "${name}" is longer than ${limits.fieldBytes} bytes`));
      form.fields.set(name, [...(form.fields.get(name) ?? []), value]);
    });
    const tooMany = (what: string) => () => fail(new ServerError('input_too_large', `too many ${what} in the form`));
    bb.on('partsLimit', tooMany('parts'));
    bb.on('filesLimit', tooMany('files'));
    bb.on('fieldsLimit', tooMany('fields'));
    bb.on('error', (e: unknown) => fail(new ServerError('invalid_input', `malformed multipart request: ${(e as Error).message}`)));
    bb.on('finish', () => {
      if (!failed) resolve(form);
    });
    req.on('error', (e) => fail(new ServerError('invalid_input', `upload failed: ${e.message}`)));
    req.pipe(bb);
  });
}

/** One text field of a form (the last value), or undefined. */
export function field(form: Form, name: string): string | undefined {
  const v = form.fields.get(name);
  return v?.[v.length - 1];
}
