/**
 * `add`, `list` and `rm` with the built CLI, over folders made by the model generator for every
 * architecture it knows: `add` infers the right tasks and saves the manifest, the model then
 * answers through its tool, an unknown architecture is refused with the reason and the flag to
 * set, and list/rm round-trip.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureModel } from '../../tools/modelgen/cache.js';
import { startServer, type Harness } from '../helpers/server.js';
import { png } from '../helpers/media.js';

const home = mkdtempSync(join(tmpdir(), 'hfms-home-'));
const cli = (...args: string[]) =>
  spawnSync(process.execPath, ['dist/cli.js', ...args], { encoding: 'utf8', env: { PATH: process.env.PATH!, HOME: home } });
const userSkills = join(home, '.config', 'hf-model-server', 'skills');

/** Each generated architecture, the tasks `add` must infer, and a call its tool must answer. */
const CASES: Array<{ arch: string; tasks: string[]; tool: string; args: (model: string) => Promise<Record<string, unknown>> }> = [
  { arch: 'bert', tasks: ['feature-extraction'], tool: 'embed', args: async (model) => ({ model, texts: ['hello'] }) },
  { arch: 'bert-classifier', tasks: ['text-classification'], tool: 'classify', args: async (model) => ({ model, text: 'good' }) },
  { arch: 'gpt2', tasks: ['text-generation'], tool: 'generate', args: async (model) => ({ model, prompt: 'Hi', max_new_tokens: 3 }) },
  {
    arch: 'qwen2',
    tasks: ['text-generation'],
    tool: 'generate',
    args: async (model) => ({ model, messages: [{ role: 'user', content: 'Hi' }], max_new_tokens: 3 }),
  },
  {
    arch: 'llama',
    tasks: ['text-generation'],
    tool: 'generate',
    args: async (model) => ({ model, messages: [{ role: 'user', content: 'Hi' }], max_new_tokens: 3 }),
  },
  {
    arch: 't5',
    tasks: ['text2text-generation'],
    tool: 'generate',
    args: async (model) => ({ model, prompt: 'Summarize: hello', max_new_tokens: 3 }),
  },
  {
    arch: 'vit',
    tasks: ['image-classification'],
    tool: 'classify',
    args: async (model) => ({ model, image_base64: (await png(32, 32)).toString('base64') }),
  },
  {
    arch: 'detr',
    tasks: ['object-detection'],
    tool: 'detect',
    args: async (model) => ({ model, image_base64: (await png(64, 64)).toString('base64'), threshold: 0 }),
  },
  {
    arch: 'clip',
    tasks: ['zero-shot-image-classification'],
    tool: 'classify',
    args: async (model) => ({ model, image_base64: (await png(32, 32)).toString('base64'), candidate_labels: ['a cat', 'a dog'] }),
  },
  {
    arch: 'whisper',
    tasks: ['automatic-speech-recognition'],
    tool: 'transcribe',
    args: async (model) => ({ model, audio: 'examples/speech.wav', max_new_tokens: 4 }),
  },
];

let h: Harness | undefined;
afterAll(async () => h?.close());

describe('add, list, rm', () => {
  it('add infers each generated architecture’s tasks, and the model answers through its tool', async () => {
    for (const c of CASES) {
      const r = cli('add', ensureModel({ arch: c.arch }), '--name', `added-${c.arch}`);
      expect(r.status, r.stderr).toBe(0);
      const { file, skill } = JSON.parse(r.stdout) as { file: string; skill: { name: string; tasks: string[] } };
      expect(skill.tasks, c.arch).toEqual(c.tasks);
      expect(file).toBe(join(userSkills, `added-${c.arch}.json`));
      expect(JSON.parse(readFileSync(file, 'utf8')).name).toBe(`added-${c.arch}`);
    }
    const chat = JSON.parse(readFileSync(join(userSkills, 'added-qwen2.json'), 'utf8')) as {
      generation: { chat_template: boolean };
      model: { dtype: unknown };
    };
    expect(chat.generation.chat_template).toBe(true);
    h = await startServer({ configDir: join(home, '.config', 'hf-model-server'), media: { allowDirs: [process.cwd()] } });
    for (const c of CASES) {
      const r = await h.call(c.tool, await c.args(`added-${c.arch}`));
      expect(r.isError, `${c.arch}: ${JSON.stringify(r.content).slice(0, 300)}`).toBeFalsy();
    }
  }, 300_000);

  it('refuses an unknown architecture with the reason and the flag to set, and a folder that is not a model', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'hfms-odd-')), 'odd-model');
    cpSync(ensureModel({ arch: 'bert' }), dir, { recursive: true });
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config, architectures: ['FrobnicatorForTimeTravel'], model_type: 'frob' }));
    const r = cli('add', dir);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/cannot tell which task FrobnicatorForTimeTravel \(model_type frob\) serves; pass --task/);
    const forced = cli('add', dir, '--task', 'feature-extraction');
    expect(forced.status, forced.stderr).toBe(0);
    expect(JSON.parse(forced.stdout).skill.name).toBe('odd-model');
    const none = cli('add', mkdtempSync(join(tmpdir(), 'hfms-empty-')));
    expect(none.status).toBe(2);
    expect(none.stderr).toMatch(/no config\.json/);
    // A built-in's name would lose to the built-in: refused.
    const clash = cli('add', dir, '--task', 'feature-extraction', '--name', 'all-minilm-l6-v2');
    expect(clash.status).toBe(2);
    expect(clash.stderr).toMatch(/"all-minilm-l6-v2" is already registered; pass another name/);
  });

  it('list shows added skills and built-ins; rm removes an added one and refuses a built-in', () => {
    const list = cli('list');
    expect(list.status, list.stderr).toBe(0);
    expect(list.stdout).toMatch(/^NAME\s+TASKS\s+ON DISK\s+SIZE\s+SOURCE/);
    expect(list.stdout).toMatch(/added-bert\s+feature-extraction\s+yes\s+\d+ MiB/);
    expect(list.stdout).toMatch(/paddleocr-v4\s+ocr,text-detection\s+yes/);
    const rm = cli('rm', 'added-bert');
    expect(rm.status, rm.stderr).toBe(0);
    expect(existsSync(join(userSkills, 'added-bert.json'))).toBe(false);
    expect(cli('list').stdout).not.toMatch(/^added-bert\s/m);
    const builtin = cli('rm', 'all-minilm-l6-v2');
    expect(builtin.status).toBe(2);
    expect(builtin.stderr).toMatch(/built in and cannot be removed/);
  });
});
