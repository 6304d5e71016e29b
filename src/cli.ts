#!/usr/bin/env node
/**
 * @module cli
 * The `hf-model-server` command: parses the config once, then serves MCP over stdio, or runs
 * one tool (`call`) and prints its JSON result on stdout. Logs go to stderr.
 */
import { createApp } from './app.js';
import { ConfigError, HELP, parseCli } from './config/config.js';
import { callOnce } from './transports/call.js';
import { runStdio } from './transports/stdio.js';
import { fail } from './mcp/results.js';
import { needsAllocatorRelaunch, relaunchWithAllocatorTuning } from './process/allocator.js';

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
    process.stdout.write(HELP);
    return;
  }
  if (needsAllocatorRelaunch(process.env, process.platform)) await relaunchWithAllocatorTuning();
  const app = createApp(parsed.config);
  process.on('unhandledRejection', (reason) => app.deps.logger.error({ err: reason }, 'unhandled rejection'));
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
  await runStdio(app);
}

void main();
