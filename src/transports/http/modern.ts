/**
 * @module transports/http/modern
 * The 2026-07-28 leg of `/mcp`: the SDK's per-request handler (`createMcpHandler`, strict, so
 * 2025-era traffic stays on the session leg beside it) mounted through its Node adapter, with
 * createServer as the factory. The revision has no sessions, so skill and model changes reach its
 * clients through `subscriptions/listen`: this module publishes them on the handler's bus, as
 * the session leg's servers send `list_changed` and `resources/updated` to 2025-era clients.
 * `isModern` is the SDK's own classifier, so routing never disagrees with the handler.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createMcpHandler, isLegacyRequest } from '@modelcontextprotocol/server';
import { toNodeHandler } from '@modelcontextprotocol/node';
import type { ServerDeps } from '../../mcp/deps.js';
import { createServer } from '../../mcp/server.js';

export interface ModernLeg {
  /** Whether a request (its parsed body, when it has one) speaks 2026-07-28. */
  isModern(req: IncomingMessage, body: unknown): Promise<boolean>;
  /** Serves one 2026-07-28 request whose body the edge has already read. */
  serve(req: IncomingMessage, res: ServerResponse, body: unknown): Promise<void>;
  /** Aborts what is in flight and stops following changes. */
  close(): Promise<void>;
}

export function modernLeg(deps: ServerDeps): ModernLeg {
  const handler = createMcpHandler(() => createServer(deps).server, {
    legacy: 'reject',
    onerror: (err) => deps.logger.debug({ err }, 'MCP request refused'),
  });
  const node = toNodeHandler(handler, { onerror: (err) => deps.logger.error({ err }, 'MCP request failed') });
  const offSkills = deps.onSkillsChanged((c) => {
    if (c.added.length + c.removed.length + c.changed.length > 0) handler.notify.toolsChanged();
    if (c.added.length + c.removed.length > 0) handler.notify.resourcesChanged();
    for (const name of [...c.added, ...c.removed, ...c.changed]) handler.notify.resourceUpdated(`hf://models/${name}`);
    handler.notify.resourceUpdated('hf://models');
  });
  const offModels = deps.loader.onEvent((model) => {
    handler.notify.resourceUpdated(`hf://models/${model}`);
    handler.notify.resourceUpdated('hf://models');
    handler.notify.resourceUpdated('hf://models/loaded');
  });
  return {
    isModern: async (req, body) => {
      // The classifier reads the method, headers and body; the body is the one already parsed.
      const headers = new Headers();
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v);
      const probe = new Request(`http://localhost${req.url ?? '/'}`, { method: req.method ?? 'GET', headers });
      return !(await isLegacyRequest(probe, body));
    },
    serve: (req, res, body) => node(req, res, body),
    close: async () => {
      offSkills();
      offModels();
      await handler.close();
    },
  };
}
