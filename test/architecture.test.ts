/**
 * Import direction: transports -> (mcp | rest) -> tasks -> runtime and resilience -> backends; skills, hardware,
 * config, process, media, vectors, prng and errors are leaves. mcp and rest never import each other. Only media/ decodes images and audio (sharp, the audio decoders). Only backend files import transformers.js or onnxruntime-node, and
 * nothing below the front doors imports the MCP SDK.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

const layer = (f: string) => relative('src', f).split('/')[0]!.replace(/\.ts$/, '');
/** Static imports, `export ... from` re-exports, and dynamic `import('...')` or `require('...')` with a literal specifier. */
const imports = (f: string) =>
  [
    ...readFileSync(f, 'utf8').matchAll(
      /^import\b[^'";]*?['"]([^'"]+)['"]|^export\s+(?:type\s+)?(?:\*(?:\s+as\s+\w+)?|\{[^}]*\})\s*from\s*['"]([^'"]+)['"]|\b(?:import|require|createRequire\([^)]*\))\(\s*['"]([^'"]+)['"]\s*\)/gm,
    ),
  ].map((m) => (m[1] ?? m[2] ?? m[3])!);

describe('architecture', () => {
  const src = files('src');

  it('sees every kind of import', () => {
    const dir = mkdtempSync(join(tmpdir(), 'arch-'));
    const f = join(dir, 'x.ts');
    writeFileSync(
      f,
      "import a from 'one';\nimport 'two';\nexport { b } from 'three';\nexport * from 'four';\nconst c = await import('five');\nconst r = createRequire(import.meta.url)('seven');\nimport {\n  d,\n} from 'six';\n",
    );
    expect(imports(f).sort()).toEqual(['five', 'four', 'one', 'seven', 'six', 'three', 'two']);
  });

  it('only src/backends imports @huggingface/transformers or onnxruntime-node', () => {
    for (const f of src) {
      if (layer(f) === 'backends') continue;
      for (const i of imports(f)) expect(i, f).not.toMatch(/^(@huggingface\/transformers|onnxruntime-node)/);
    }
  });

  it('only src/media decodes media (sharp, wavefile, the wasm audio decoders, the resampler)', () => {
    for (const f of src) {
      if (layer(f) === 'media') continue;
      for (const i of imports(f))
        expect(i, f).not.toMatch(/^(sharp|wavefile|@alexanderolsen\/libsamplerate-js|mpg123-decoder|@wasm-audio-decoders\/)/);
    }
  });

  it('nothing below the front doors imports the MCP SDK, and nothing ships the v1 package or the client', () => {
    for (const f of src) {
      for (const i of imports(f)) expect(i, f).not.toMatch(/^@modelcontextprotocol\/(sdk|client)/);
      if (['mcp', 'transports'].includes(layer(f))) continue;
      for (const i of imports(f)) expect(i, f).not.toMatch(/^@modelcontextprotocol\//);
    }
  });

  it('only the HTTP transport imports the HTTP framework: routes and tasks stay framework-free', () => {
    for (const f of src) {
      if (relative('src', f).startsWith('transports/http/')) continue;
      for (const i of imports(f)) expect(i, f).not.toMatch(/^(fastify|@fastify\/(?!busboy))/);
    }
  });

  it('layers import only downwards', () => {
    const allowed: Record<string, string[]> = {
      cli: ['index', 'app', 'config', 'transports', 'mcp', 'process', 'logger', 'errors', 'version'],
      index: ['app', 'config', 'errors', 'tasks', 'mcp', 'transports'],
      app: ['backends', 'config', 'hardware', 'logger', 'mcp', 'tasks', 'media', 'runtime', 'resilience', 'skills', 'errors', 'process'],
      transports: ['app', 'mcp', 'rest', 'tasks', 'skills', 'errors', 'logger', 'config', 'hub'],
      mcp: ['mcp', 'tasks', 'version', 'runtime', 'resilience', 'skills', 'config', 'hardware', 'logger', 'errors'],
      rest: ['rest', 'tasks', 'version', 'runtime', 'skills', 'config', 'hardware', 'logger', 'errors', 'vectors'],
      tasks: ['tasks', 'runtime', 'resilience', 'skills', 'config', 'hardware', 'logger', 'errors', 'backends', 'vectors', 'media', 'hub'],
      media: ['media', 'config', 'errors', 'process'],
      runtime: ['runtime', 'resilience', 'backends', 'skills', 'config', 'hardware', 'logger', 'errors', 'vectors'],
      resilience: ['resilience', 'errors'],
      backends: ['backends', 'skills', 'errors', 'vectors', 'prng', 'process', 'hub'],
      hub: ['hub', 'errors', 'skills'],
      skills: ['skills', 'logger'],
      hardware: ['hardware', 'skills'],
      config: ['config', 'logger'],
      process: ['process', 'logger'],
      logger: [],
      errors: [],
      vectors: [],
      prng: [],
      version: [],
    };
    for (const f of src) {
      const from = layer(f);
      for (const i of imports(f).filter((x) => x.startsWith('.'))) {
        const target = join(f, '..', i).replace(/\.js$/, '.ts');
        if (relative('src', target).startsWith('..')) continue; // package.json and the like: not a layer
        const to = layer(target);
        if (to === from) continue;
        expect(allowed[from] ?? [], `${relative('.', f)} imports ${i} (${from} -> ${to})`).toContain(to);
      }
    }
  });
});
