/**
 * Skill discovery: built-in manifests are valid, bad manifests are reported and skipped, and
 * the published JSON Schema matches the zod schema.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { BUILTIN_SKILLS_DIR, loadRegistry } from '../../src/skills/registry.js';
import { skillJsonSchema } from '../../src/skills/schema.js';
import { makeSkillsDir } from '../helpers/server.js';

const good = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  family: 'bert',
  architecture: 'encoder-only',
  tasks: ['feature-extraction'],
  description: 'test skill',
  model: { id: 'org/model' },
  ...extra,
});

describe('skills registry', () => {
  it('loads every built-in manifest without errors', () => {
    const r = loadRegistry({ logger: pino({ level: 'silent' }) });
    expect(r.invalid).toEqual([]);
    const names = r.skills.map((s) => s.skill.name);
    expect(names).toEqual(
      expect.arrayContaining([
        'all-minilm-l6-v2',
        'distilbert-sst2',
        'qwen2.5-0.5b-instruct',
        'distilgpt2',
        'flan-t5-small',
        'vit-base-patch16-224',
        'detr-resnet-50',
        'clip-vit-base-patch32',
        'whisper-tiny',
      ]),
    );
    expect(r.defaultFor('feature-extraction')?.skill.name).toBe('all-minilm-l6-v2');
    expect(r.defaultFor('text-generation')?.skill.name).toBe('qwen2.5-0.5b-instruct');
  });

  it('reports bad manifests with reasons and still loads the rest', () => {
    const dir = makeSkillsDir({
      'a-good.json': good('user-embedder'),
      'b-broken.json': '{ "name": "oops", ',
      'c-schema.json': { ...good('no-tasks'), tasks: [] },
      'd-dup.json': good('user-embedder'),
      'e-task.json': good('bad-task', { tasks: ['telepathy'] }),
      'f-builtin-dup.json': good('distilgpt2'),
      'g-extra-field.json': good('extra', { colour: 'blue' }),
      'h-default.json': good('bad-default', { default_for: ['text-generation'] }),
    });
    const r = loadRegistry({ userDirs: [dir], logger: pino({ level: 'silent' }) });
    expect(r.get('user-embedder')?.builtin).toBe(false);
    expect(r.get('all-minilm-l6-v2')).toBeDefined();
    const reasons = Object.fromEntries(r.invalid.map((i) => [i.file.split('/').pop(), i.reason]));
    expect(reasons['b-broken.json']).toMatch(/invalid JSON/);
    expect(reasons['c-schema.json']).toMatch(/tasks/);
    expect(reasons['d-dup.json']).toMatch(/duplicate name "user-embedder" \(already defined in a-good.json\)/);
    expect(reasons['e-task.json']).toMatch(/tasks\.0/);
    expect(reasons['f-builtin-dup.json']).toMatch(/duplicate name "distilgpt2"/);
    expect(reasons['g-extra-field.json']).toMatch(/colour/);
    expect(reasons['h-default.json']).toMatch(/default_for/);
    expect(r.invalid).toHaveLength(7);
  });

  it('a missing skills dir is not fatal', () => {
    const r = loadRegistry({ builtinDir: null, userDirs: ['/nonexistent/skills'] });
    expect(r.skills).toEqual([]);
  });

  it('skills/skill.schema.json is up to date (npm run skill-schema)', () => {
    const committed = JSON.parse(readFileSync(`${BUILTIN_SKILLS_DIR}/skill.schema.json`, 'utf8'));
    expect(committed).toEqual(JSON.parse(JSON.stringify(skillJsonSchema())));
  });

  it('refuses special and oversized files without reading them (a FIFO would block forever)', () => {
    const dir = makeSkillsDir({ 'ok.json': good('ok') });
    execFileSync('mkfifo', [join(dir, 'pipe.json')]);
    writeFileSync(join(dir, 'huge.json'), `{"name": "huge", "pad": "${'x'.repeat(1 << 20)}"}`);
    symlinkSync(join(dir, 'ok.json'), join(dir, 'z-link.json')); // a symlink to a manifest is read (a duplicate here)
    const r = loadRegistry({ builtinDir: null, userDirs: [dir], logger: pino({ level: 'silent' }) });
    expect(r.skills.map((s) => s.skill.name)).toEqual(['ok']);
    const reasons = Object.fromEntries(r.invalid.map((i) => [i.file.split('/').pop(), i.reason]));
    expect(reasons['pipe.json']).toBe('not a regular file');
    expect(reasons['huge.json']).toMatch(/at most 1048576/);
    expect(reasons['z-link.json']).toMatch(/duplicate name "ok"/);
  });
});
