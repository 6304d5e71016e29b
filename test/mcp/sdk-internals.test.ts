/**
 * The SDK internals module: every private member it relies on exists in the installed SDK, each
 * patch has its effect through a real client, and each falls back to the public behaviour when
 * its member is gone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  cancelRequest,
  checkSdkInternals,
  logLevelIgnores,
  mapSdkToolErrors,
  skipOutputRevalidation,
} from '../../src/mcp/sdk-internals.js';
import { errorOf, startServer, type Harness } from '../helpers/server.js';

let h: Harness;
beforeAll(async () => {
  h = await startServer();
}, 120_000);
afterAll(async () => h?.close());

describe('MCP SDK internals', () => {
  it('the installed SDK has every member used', () => {
    expect(checkSdkInternals()).toEqual([]);
  });

  it('createToolError: the SDK’s own errors (unknown tool, bad arguments) carry catalog codes', async () => {
    expect(errorOf(await h.call('no_such_tool', {})).code).toBe('unknown_tool');
    expect(errorOf(await h.call('embed', { texts: 'not an array' })).code).toBe('invalid_input');
  });

  it('falls back to the public behaviour when a member is gone', () => {
    const bare = { server: {} } as unknown as McpServer;
    expect(mapSdkToolErrors(bare, () => ({ content: [] }))).toBe(false);
    expect(skipOutputRevalidation(bare)).toBe(false);
    expect(logLevelIgnores(bare, 'debug', undefined)).toBe(false);
  });

  it('cancelRequest feeds the transport a cancellation for that request', () => {
    const seen: unknown[] = [];
    const t = { onmessage: (m: unknown) => seen.push(m) } as unknown as Transport;
    cancelRequest(t, 7, 'client disconnected');
    expect(seen).toEqual([{ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 7, reason: 'client disconnected' } }]);
  });
});
