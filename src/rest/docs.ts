/**
 * @module rest/docs
 * `GET /docs`: the OpenAPI description rendered by Swagger UI, whose files come from the
 * swagger-ui-dist npm package (copied into dist/ at build), never from a CDN, so the page works
 * on hosts with no internet. No inline script: the page's policy allows only this server.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ServerError } from '../errors.js';
import type { RestRoute } from './route.js';

/** The folder holding Swagger UI's files: dist/swagger-ui when built, else the package (running from sources). */
function assetsDir(): string | undefined {
  const built = join(dirname(fileURLToPath(import.meta.url)), '..', 'swagger-ui');
  if (existsSync(join(built, 'swagger-ui-bundle.js'))) return built;
  try {
    return dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
  } catch {
    return undefined;
  }
}

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>hf-model-server API</title>
<link rel="stylesheet" href="docs/swagger-ui.css">
</head>
<body>
<div id="ui"></div>
<script src="docs/swagger-ui-bundle.js"></script>
<script src="docs/init.js"></script>
</body>
</html>
`;

const INIT = `window.ui = SwaggerUIBundle({ url: new URL('openapi.json', document.baseURI).href, dom_id: '#ui', deepLinking: true, tryItOutEnabled: true });\n`;

const POLICY = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'";

export function docsRoutes(): RestRoute[] {
  const dir = assetsDir();
  const files: Record<string, { type: string; body: () => Buffer | string }> = {
    '/docs': { type: 'text/html; charset=utf-8', body: () => PAGE },
    '/docs/init.js': { type: 'text/javascript; charset=utf-8', body: () => INIT },
    '/docs/swagger-ui.css': { type: 'text/css; charset=utf-8', body: () => readFileSync(join(dir!, 'swagger-ui.css')) },
    '/docs/swagger-ui-bundle.js': { type: 'text/javascript; charset=utf-8', body: () => readFileSync(join(dir!, 'swagger-ui-bundle.js')) },
  };
  // Each file is read once, on its first request (the bundle is large and never changes).
  const bodies = new Map<string, Buffer | string>();
  // `/docs/` is where people type it; the page's relative links are made for `/docs`. The target
  // is relative, so it also holds under a path prefix of a proxy.
  const slash: RestRoute = {
    method: 'GET',
    path: '/docs/',
    style: 'openai',
    doc: { summary: 'Redirect to /docs', tag: 'Server', hidden: true },
    handle: async (call) => {
      call.res.writeHead(301, { location: '../docs', 'content-length': '0' });
      call.res.end();
    },
  };
  return [
    slash,
    ...Object.entries(files).map(([path, f]): RestRoute => ({
      method: 'GET' as const,
      path,
      style: 'openai' as const,
      doc: {
        summary: path === '/docs' ? 'This API description, rendered (Swagger UI)' : 'Swagger UI file',
        tag: 'Server',
        hidden: path !== '/docs',
      },
      handle: async (call) => {
        if (!dir && path !== '/docs/init.js')
          throw new ServerError('not_found', 'the API page files are missing from this install (swagger-ui)');
        let body = bodies.get(path);
        if (body === undefined) bodies.set(path, (body = f.body()));
        call.res.writeHead(200, {
          'content-type': f.type,
          'content-length': String(Buffer.byteLength(body)),
          'content-security-policy': POLICY,
          'cache-control': path === '/docs' ? 'no-cache' : 'public, max-age=86400',
          'x-content-type-options': 'nosniff',
        });
        call.res.end(body);
      },
    })),
  ];
}
