/**
 * @module version
 * The package's version, read once from package.json (the server reports it in MCP initialize
 * and `--version` prints it).
 */
import { createRequire } from 'node:module';

export const VERSION = (createRequire(import.meta.url)('../package.json') as { version: string }).version;
