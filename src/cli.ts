#!/usr/bin/env node
/**
 * @module cli
 * The `hf-model-server` command: parses the config once, then serves MCP over stdio (and HTTP)
 * through the library API (index.ts: an engine, its HTTP app and its stdio server), runs one tool
 * (`call`) and prints its JSON result on stdout, downloads models into the cache (`pull`), or
 * manages skills (`add`, `list`, `rm`). Logs go to stderr.
 */
import { createApp } from './app.js';
import { ConfigError, HELP, parseCli } from './config/config.js';
import { callOnce } from './transports/call.js';
import { rmSync } from 'node:fs';
import { prepareHubPulls, pull } from './transports/pull.js';
import { runSkillsCommand } from './transports/skills-cli.js';
import { bindSafetyError } from './transports/http/auth.js';
import { createHttpApp, engineFromConfig, serveStdio, type HttpServer } from './index.js';
import { fail } from './mcp/results.js';
import { needsAllocatorRelaunch, relaunchWithAllocatorTuning } from './process/allocator.js';
import { installRejectionGuard } from './process/guards.js';
import { VERSION } from './version.js';

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseCli(process.argv.slice(2), process.env);
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`hf-model-server: ${e.message}\nRun hf-model-server --help for usage.\n`);
      process.exit(2);
    }
    throw e;
  }
  if (parsed.help) {
    process.stdout.write(parsed.helpText ?? HELP);
    return;
  }
  if (parsed.version) {
    process.stdout.write(`${VERSION}\n`);
    return;
  }
  for (const note of parsed.notes) process.stderr.write(`hf-model-server: ${note}\n`);
  const config = parsed.config;
  if (needsAllocatorRelaunch(config.mallocTuning, process.env, process.platform)) await relaunchWithAllocatorTuning();
  if (!parsed.call && !parsed.pull && !parsed.skills && config.transport !== 'stdio') {
    const unsafe = bindSafetyError(config);
    if (unsafe) {
      process.stderr.write(`hf-model-server: ${unsafe}\n`);
      process.exit(2);
    }
  }
  if (parsed.skills?.command === 'add') process.exit(await runSkillsCommand(undefined, config, parsed.skills));
  // Hub ids that no skill names get inferred skills, in a folder the app then reads too.
  const hubPulls = parsed.pull ? await prepareHubPulls(config, parsed.pull) : undefined;
  const app = createApp(hubPulls?.dir ? { ...config, skillsDirs: [...config.skillsDirs, hubPulls.dir], noWatch: true } : config);
  installRejectionGuard(app.deps.logger);
  if (parsed.skills) {
    const code = await runSkillsCommand(app, config, parsed.skills);
    await app.close();
    process.exit(code);
  }
  if (hubPulls) {
    const results = await pull(app, hubPulls.names, process.stderr, hubPulls.failures);
    if (hubPulls.dir) rmSync(hubPulls.dir, { recursive: true, force: true });
    // A person at a terminal has read each outcome above; a script gets the JSON.
    if (process.stdout.isTTY) {
      const failed = results.filter((r) => !r.ok).length;
      process.stdout.write(`${results.length - failed} ready${failed ? `, ${failed} failed` : ''}\n`);
    } else process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
    await app.close();
    process.exit(results.every((r) => r.ok) ? 0 : 1);
  }
  if (parsed.call) {
    let result;
    try {
      result = await callOnce(app, parsed.call.tool, parsed.call.args);
    } catch (e) {
      result = fail(e);
    }
    const body = result.structuredContent ?? JSON.parse((result.content[0] as { text: string }).text);
    process.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
    await app.close();
    process.exit(result.isError ? 1 : 0);
  }

  const engine = await engineFromConfig(config, { app, ready: false });
  let http: HttpServer | undefined;
  let stdio: { close(): Promise<void> } | undefined;
  let closing = false;
  const shutdown = async (why: string) => {
    if (closing) return;
    closing = true;
    app.deps.logger.info({ why, inFlight: http?.inFlight() ?? 0 }, 'shutting down');
    await http?.close(config.shutdownGraceMs).catch(() => undefined);
    await stdio?.close().catch(() => undefined);
    await engine.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  // SIGHUP reloads the TLS certificate (after a renewal); without TLS it is ignored rather than fatal.
  process.on('SIGHUP', () => {
    if (http?.reloadTls() === false && config.tlsCert) app.deps.logger.warn('SIGHUP: TLS reload failed');
  });
  if (config.transport !== 'stdio') {
    try {
      http = await createHttpApp(engine).listen();
    } catch (e) {
      process.stderr.write(`hf-model-server: cannot listen on ${config.host}:${config.port}: ${(e as Error).message}\n`);
      await engine.close();
      process.exit(1);
    }
  }
  if (config.transport !== 'http') {
    // With stdio only, the client closing stdin ends the server; with both, HTTP keeps serving.
    stdio = await serveStdio(engine, () => {
      if (config.transport === 'stdio') void shutdown('stdin closed');
    });
  }
}

void main();
