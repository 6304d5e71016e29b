// Copies the Swagger UI files that /docs serves from the swagger-ui-dist package into dist/, so
// the built server (and the packed tarball) serves them with no CDN and without depending on the
// package at run time. Run by `npm run build`.
import { copyFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const from = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
const to = join(dirname(new URL(import.meta.url).pathname), '..', 'dist', 'swagger-ui');
mkdirSync(to, { recursive: true });
for (const f of ['swagger-ui-bundle.js', 'swagger-ui.css', 'LICENSE', 'NOTICE', 'package.json']) copyFileSync(join(from, f), join(to, f));
