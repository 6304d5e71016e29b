/**
 * Config: flags and HF_MODEL_SERVER_* variables, flags winning, validation, freezing.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ConfigError, HELP, TOOL_NAMES, optionLines, parseCli } from '../../src/config/config.js';

describe('parseCli', () => {
  it('reads defaults, environment and flags (flags win)', () => {
    const d = parseCli([], {}).config;
    expect(d).toMatchObject({ transport: 'stdio', offline: false, device: 'auto', logLevel: 'info', tools: [...TOOL_NAMES] });
    expect(d.media).toMatchObject({
      allowDirs: [process.cwd()],
      allowUrls: false,
      allowPrivateUrls: false,
      maxBytes: 20 * 2 ** 20,
      maxPixels: 25_000_000,
      maxAudioSeconds: 3600,
    });
    const m = parseCli(
      [
        '--allow-dir',
        '/data',
        '--allow-dir',
        '/srv/media',
        '--allow-urls',
        '--max-media-size',
        '5MB',
        '--max-image-pixels',
        '1000000',
        '--max-audio-duration',
        '10m',
      ],
      {},
    ).config.media;
    expect(m).toMatchObject({ allowDirs: ['/data', '/srv/media'], allowUrls: true, maxBytes: 5e6, maxPixels: 1e6, maxAudioSeconds: 600 });
    expect(parseCli([], { HF_MODEL_SERVER_ALLOW_DIR: '/x,/y', HF_MODEL_SERVER_ALLOW_URLS: '1' }).config.media).toMatchObject({
      allowDirs: ['/x', '/y'],
      allowUrls: true,
    });
    const e = parseCli(['--log-level', 'debug'], {
      HF_MODEL_SERVER_OFFLINE: '1',
      HF_MODEL_SERVER_TOOLS: 'embed,similarity',
      HF_MODEL_SERVER_LOG_LEVEL: 'warn',
      HF_MODEL_SERVER_MODELS_DIR: '/models',
      HF_MODEL_SERVER_SKILLS_DIR: '/a,/b',
      HF_MODEL_SERVER_THREADS: '1',
    }).config;
    expect(e).toMatchObject({
      offline: true,
      tools: ['embed', 'similarity'],
      logLevel: 'debug',
      modelsDir: '/models',
      skillsDirs: ['/a', '/b'],
      threads: 1,
    });
  });

  it('is frozen', () => {
    const c = parseCli([], {}).config;
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.limits)).toBe(true);
  });

  it('parses the call subcommand', () => {
    expect(parseCli(['call', 'embed', '{"texts":["a"]}'], {}).call).toEqual({ tool: 'embed', args: '{"texts":["a"]}' });
  });

  it.each([
    [['--tools', 'embed,teleport'], /tools/],
    [['--device', 'tpu'], /device/],
    [['--threads', 'many'], /threads must be an integer/],
    [['--nope'], /unknown option --nope/],
    [['srve'], /unknown command "srve"; did you mean serve\?/],
    [['--log-level', 'loud'], /logLevel/],
  ])('rejects %j', (argv, msg) => {
    expect(() => parseCli(argv as string[], {})).toThrow(ConfigError);
    expect(() => parseCli(argv as string[], {})).toThrow(msg);
  });

  it('parses sizes and durations', () => {
    const c = parseCli(['--memory-budget', '2GiB', '--keep-alive', '90s', '--pin', 'a,b', '--preload', 'a'], {}).config;
    expect(c).toMatchObject({ memoryBudget: 2 ** 31, keepAliveMs: 90_000, pin: ['a', 'b'], preload: ['a'] });
    expect(parseCli(['--keep-alive=-1'], {}).config.keepAliveMs).toBe(-1);
    expect(parseCli(['--keep-alive', 'never'], {}).config.keepAliveMs).toBe(-1);
    expect(parseCli([], { HF_MODEL_SERVER_MEMORY_BUDGET: '25%' }).config.memoryBudget).toBeGreaterThan(0);
    expect(() => parseCli(['--memory-budget', 'lots'], {})).toThrow(/--memory-budget must be a size/);
    expect(() => parseCli(['--keep-alive', 'soon'], {})).toThrow(/keep-alive must be a duration/);
  });

  it('rejects a bad boolean in the environment', () => {
    expect(() => parseCli([], { HF_MODEL_SERVER_OFFLINE: 'maybe' })).toThrow(/boolean/);
  });

  it('is generated from one option table: every flag is in the help with its variable, sources merge as declared', () => {
    const flags = [...HELP.matchAll(/^ {2}--([a-z-]+)/gm)].map((m) => m[1]!);
    expect(flags).toEqual(expect.arrayContaining(['port', 'allow-dir', 'max-body-size', 'hub-endpoint']));
    for (const f of flags) {
      expect(() => parseCli([`--${f}`, ...(HELP.includes(`--${f} `) ? ['1'] : [])], {}), f).not.toThrow(/Unknown option/);
      expect(HELP, f).toContain(`HF_MODEL_SERVER_${f.toUpperCase().replace(/-/g, '_')}`);
    }
    const keys = join(mkdtempSync(join(tmpdir(), 'hfms-keys-')), 'keys');
    writeFileSync(keys, 'from-file\n# comment\n');
    expect(parseCli(['--api-key-file', keys], { HF_MODEL_SERVER_API_KEYS: 'a,b' }).config.apiKeys).toEqual(['a', 'b', 'from-file']);
    expect(parseCli([], { HF_ENDPOINT: 'https://mirror.example' }).config.hubEndpoint).toBe('https://mirror.example');
    expect(parseCli(['--hub-endpoint', 'https://a.example'], { HF_ENDPOINT: 'https://b.example' }).config.hubEndpoint).toBe(
      'https://a.example',
    );
  });

  it('serve DIR... allows those folders; an empty variable counts as unset (launchers fill optional settings with "")', () => {
    const c = parseCli(['serve', '/data/a', 'b', '--allow-dir', '/c'], {}).config;
    expect(c.media.allowDirs).toEqual(['/c', '/data/a', resolve('b')]);
    const e = parseCli([], { HF_MODEL_SERVER_MODELS_DIR: '', HF_TOKEN: '', HF_MODEL_SERVER_OFFLINE: '' }).config;
    expect(e.modelsDir).toBeUndefined();
    expect(e.hubToken).toBeUndefined();
    expect(e.offline).toBe(false);
    expect(parseCli(['help', 'serve'], {}).helpText).toMatch(/Each DIR is a folder the tools may\nread/);
  });

  it('the reference lists the options exactly as --help prints them (npm run docs:config)', () => {
    expect(readFileSync('docs/reference.md', 'utf8')).toContain(
      `<!-- options:start -->\n\`\`\`text\n${optionLines()}\n\`\`\`\n<!-- options:end -->`,
    );
  });
});

describe('options file (--config) and --route', () => {
  const file = (body: string) => {
    const f = join(mkdtempSync(join(tmpdir(), 'hfms-cfg-')), 'options.json');
    writeFileSync(f, body);
    return f;
  };

  it('reads camelCase options below variables and flags; --route splits per tool', () => {
    const f = file(JSON.stringify({ route: 'embed=a:90,b:10;generate=x:1,y:3', cacheSize: '64MB', rateLimit: 7, allowDir: ['/srv/a'] }));
    const c = parseCli(['--config', f], {}).config;
    expect(c.routes).toEqual(['embed=a:90,b:10', 'generate=x:1,y:3']);
    expect(c.cacheBytes).toBe(64_000_000);
    expect(c.rateLimit).toBe(7);
    expect(c.media.allowDirs).toEqual(['/srv/a']);
    const over = parseCli(['--config', f, '--rate-limit', '9', '--route', 'embed=b:1'], { HF_MODEL_SERVER_CACHE_SIZE: '1MB' }).config;
    expect(over.rateLimit).toBe(9);
    expect(over.routes).toEqual(['embed=b:1']);
    expect(over.cacheBytes).toBe(1_000_000);
  });

  it('says what is wrong with a file without echoing it, and refuses a bad route', () => {
    expect(() => parseCli(['--config', file('{"apiKey": "sk-secret-value",')], {})).toThrow(/not valid JSON/);
    try {
      parseCli(['--config', file('{"apiKey": "sk-secret-value",')], {});
    } catch (e) {
      expect((e as Error).message).not.toMatch(/sk-secret/);
    }
    expect(() => parseCli(['--config', file('{"modelDir": "/m"}')], {})).toThrow(/unknown option modelDir; did you mean modelsDir/);
    expect(() => parseCli(['--config', file('[1]')], {})).toThrow(/JSON object/);
    expect(() => parseCli(['--config', '/nonexistent/options.json'], {})).toThrow(/ENOENT/);
    expect(() => parseCli(['--route', 'embedd=a:1'], {})).toThrow(/unknown tool "embedd"/);
    expect(() => parseCli(['--route', 'embed=a:0'], {})).toThrow(/positive/);
    expect(() => parseCli(['--route', 'embed=a'], {})).toThrow(/tool=model:weight/);
    expect(ConfigError).toBeDefined();
  });
});
