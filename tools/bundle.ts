/**
 * @module bundle
 * `npm run bundle`: an MCP Bundle (.mcpb) for Claude Desktop on this platform, built with the
 * @anthropic-ai/mcpb tooling. The bundle carries the built server, the skills and the production
 * dependencies only, pruned to this platform: onnxruntime-node keeps only this platform's native
 * build, and browser-only code (onnxruntime-web, transformers.js's web bundles) stays out, since
 * the server never loads it. Everything is copied from this checkout's node_modules, following
 * the lockfile, so it works offline. Writes `bundle/hf-model-server-<version>-<platform>-<arch>.mcpb`
 * and prints its size. Run `npm run build` first.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; description: string; license: string };

/** Packages the server never loads under Node: browser builds. */
const BROWSER_ONLY = new Set(['node_modules/onnxruntime-web']);
/** Files of needed packages that only a browser reads. */
const BROWSER_FILES = ['transformers.js', 'transformers.min.js', 'transformers.web.js', 'transformers.web.min.js'].map((f) =>
  join('node_modules', '@huggingface', 'transformers', 'dist', f),
);

/** The manifest Claude Desktop reads: how to start the server, and what the user sets. */
export function manifest(): Record<string, unknown> {
  return {
    manifest_version: '0.3',
    name: 'hf-model-server',
    display_name: 'HF Model Server',
    version: pkg.version,
    description: pkg.description,
    long_description:
      'Local Hugging Face models as tools: OCR, embeddings, similarity, classification, generation, speech. OCR and speech detection work offline out of the box; other models download from the Hugging Face Hub on first use, or come from your models folder.',
    author: { name: 'hf-model-server contributors' },
    license: pkg.license,
    server: {
      type: 'node',
      entry_point: 'dist/cli.js',
      mcp_config: {
        command: 'node',
        // The folders come last: a list of directories expands to one argument each.
        args: ['${__dirname}/dist/cli.js', 'serve', '${user_config.allowed_directories}'],
        env: {
          ONNXRUNTIME_NODE_INSTALL: 'skip',
          HF_MODEL_SERVER_MODELS_DIR: '${user_config.models_dir}',
          HF_MODEL_SERVER_OFFLINE: '${user_config.offline}',
          HF_TOKEN: '${user_config.hub_token}',
        },
      },
    },
    user_config: {
      allowed_directories: {
        type: 'directory',
        title: 'Folders the tools may read',
        description: 'Images and audio the tools work on are read from these folders only (hidden files never).',
        multiple: true,
        required: true,
      },
      models_dir: {
        type: 'directory',
        title: 'Models folder',
        description: 'Optional: models laid out as org/name/ (Hub ids), used before any download.',
        required: false,
        default: '',
      },
      offline: {
        type: 'boolean',
        title: 'Offline',
        description: 'Never contact the Hugging Face Hub; models come from the models folder or the download cache.',
        required: false,
        default: false,
      },
      hub_token: {
        type: 'string',
        title: 'Hugging Face token',
        description: 'Optional: for gated or private models. Sent only to the Hub.',
        sensitive: true,
        required: false,
        default: '',
      },
    },
    tools: [
      { name: 'ocr', description: 'Read the text of an image, line by line.' },
      { name: 'embed', description: 'Turn texts into embedding vectors.' },
      { name: 'similarity', description: 'Rank documents against a query.' },
      { name: 'classify', description: 'Classify text or an image.' },
      { name: 'generate', description: 'Generate text from a prompt or chat messages.' },
      { name: 'transcribe', description: 'Speech to text with timestamps.' },
      { name: 'detect', description: 'Find objects or text lines in an image.' },
      { name: 'detect_speech', description: 'Find the spoken parts of a recording.' },
    ],
    compatibility: { platforms: [process.platform], runtimes: { node: '>=20.0.0' } },
  };
}

/** The production packages of the lockfile (top-level folders; nested ones come with them). */
function productionPackages(): string[] {
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { dev?: boolean }>;
  };
  return Object.entries(lock.packages)
    .filter(([path, p]) => path.startsWith('node_modules/') && !p.dev && path.lastIndexOf('node_modules/') === 0)
    .map(([path]) => path)
    .filter((path) => existsSync(join(ROOT, path)) && !BROWSER_ONLY.has(path));
}

/** Bytes under a path. */
function size(p: string): number {
  const st = statSync(p);
  if (!st.isDirectory()) return st.size;
  return execFileSync('du', ['-sb', p], { encoding: 'utf8' }).split('\t').map(Number)[0]!;
}

/** Builds the bundle; returns its path and size. */
export function buildBundle(outDir = join(ROOT, 'bundle')): { file: string; bytes: number; stage: string } {
  if (!existsSync(join(ROOT, 'dist', 'cli.js'))) throw new Error('dist/ is missing: run npm run build first');
  const stage = join(outDir, 'stage');
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(stage, { recursive: true });
  for (const f of ['dist', 'skills', 'package.json', 'LICENSE', 'README.md']) cpSync(join(ROOT, f), join(stage, f), { recursive: true });
  for (const p of productionPackages()) cpSync(join(ROOT, p), join(stage, p), { recursive: true, verbatimSymlinks: true });
  // onnxruntime-node: this platform's native build only.
  const napi = join(stage, 'node_modules', 'onnxruntime-node', 'bin');
  for (const abi of existsSync(napi) ? execFileSync('ls', [napi], { encoding: 'utf8' }).split('\n').filter(Boolean) : []) {
    for (const platform of execFileSync('ls', [join(napi, abi)], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)) {
      if (platform !== process.platform) rmSync(join(napi, abi, platform), { recursive: true, force: true });
      else
        for (const arch of execFileSync('ls', [join(napi, abi, platform)], { encoding: 'utf8' })
          .split('\n')
          .filter(Boolean))
          if (arch !== process.arch) rmSync(join(napi, abi, platform, arch), { recursive: true, force: true });
    }
  }
  for (const f of BROWSER_FILES) rmSync(join(stage, f), { force: true });
  writeFileSync(join(stage, 'manifest.json'), `${JSON.stringify(manifest(), null, 2)}\n`);
  const mcpb = join(ROOT, 'node_modules', '.bin', 'mcpb');
  execFileSync(mcpb, ['validate', join(stage, 'manifest.json')], { stdio: 'pipe' });
  const file = join(outDir, `hf-model-server-${pkg.version}-${process.platform}-${process.arch}.mcpb`);
  rmSync(file, { force: true });
  execFileSync(mcpb, ['pack', stage, file], { stdio: 'pipe' });
  return { file, bytes: size(file), stage };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { file, bytes, stage } = buildBundle();
  const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;
  process.stderr.write(`wrote ${file}: ${mib(bytes)} (unpacked ${mib(size(stage))})\n`);
}
