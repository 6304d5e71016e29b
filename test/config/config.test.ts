/**
 * Config: flags and HF_MODEL_SERVER_* variables, flags winning, validation, freezing.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, parseCli } from '../../src/config/config.js';

describe('parseCli', () => {
  it('reads defaults, environment and flags (flags win)', () => {
    const d = parseCli([], {}).config;
    expect(d).toMatchObject({ transport: 'stdio', offline: false, device: 'auto', logLevel: 'info', tools: ['embed', 'similarity', 'classify', 'generate', 'load_model', 'unload_model'] });
    const e = parseCli(['--log-level', 'debug'], {
      HF_MODEL_SERVER_OFFLINE: '1',
      HF_MODEL_SERVER_TOOLS: 'embed,similarity',
      HF_MODEL_SERVER_LOG_LEVEL: 'warn',
      HF_MODEL_SERVER_MODELS_DIR: '/models',
      HF_MODEL_SERVER_SKILLS_DIR: '/a,/b',
      HF_MODEL_SERVER_THREADS: '1',
    }).config;
    expect(e).toMatchObject({ offline: true, tools: ['embed', 'similarity'], logLevel: 'debug', modelsDir: '/models', skillsDirs: ['/a', '/b'], threads: 1 });
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
    [['--nope'], /Unknown option/],
    [['serve'], /unknown command "serve"/],
    [['--log-level', 'loud'], /logLevel/],
  ])('rejects %j', (argv, msg) => {
    expect(() => parseCli(argv as string[], {})).toThrow(ConfigError);
    expect(() => parseCli(argv as string[], {})).toThrow(msg);
  });

  it('rejects a bad boolean in the environment', () => {
    expect(() => parseCli([], { HF_MODEL_SERVER_OFFLINE: 'maybe' })).toThrow(/boolean/);
  });
});
