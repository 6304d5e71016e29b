/**
 * @module mcp/resources
 * Read-only JSON resources: hardware (`hf://hardware`), the model registry with each skill's
 * status and every rejected manifest (`hf://models`), loaded models (`hf://models/loaded`), and a
 * template resource per model (`hf://models/{name}`), and the router's choices for `model: "auto"`
 * (`hf://router`). Reading any of them needs the
 * `models:read` scope over authenticated HTTP: the registry shows local paths.
 * Clients may subscribe to the model resources (resources/subscribe) and get
 * `notifications/resources/updated` when a model loads, fails, unloads or is evicted, or its
 * skill changes; a skills change also sends `notifications/resources/list_changed`.
 */
import { ProtocolError, ProtocolErrorCode, ResourceTemplate, type McpServer } from '@modelcontextprotocol/server';
import { ServerError, echo } from '../../errors.js';
import type { ServerDeps } from '../deps.js';
import { READ_SCOPE, requireScope } from '../../tasks/scopes.js';
import { hardwareView, skillView } from '../../tasks/views.js';

const json = (uri: string, data: unknown) => ({ contents: [{ uri, mimeType: 'application/json', text: JSON.stringify(data, null, 2) }] });

/** Resources a client may subscribe to: the registry, loaded models, and each model. */
function subscribable(uri: string, deps: ServerDeps): boolean {
  if (uri === 'hf://models' || uri === 'hf://models/loaded') return true;
  const m = /^hf:\/\/models\/([^/]+)$/.exec(uri);
  return m !== null && deps.registry.get(decodeURIComponent(m[1]!)) !== undefined;
}

/**
 * Serves resources/subscribe and resources/unsubscribe for this connection, and sends
 * `resources/updated` for subscribed URIs as models change state or skills change. Returns the
 * unsubscribe from both feeds.
 */
function serveSubscriptions(server: McpServer, deps: ServerDeps): () => void {
  const subscribed = new Set<string>();
  server.server.setRequestHandler('resources/subscribe', async (req, ctx) => {
    requireScope(ctx.http?.authInfo, READ_SCOPE);
    const uri = req.params.uri;
    if (!subscribable(uri, deps))
      throw new ProtocolError(
        ProtocolErrorCode.InvalidParams,
        `cannot subscribe to ${echo(uri)}: use hf://models, hf://models/loaded or hf://models/{name} of a registered model`,
        { code: 'invalid_input' },
      );
    subscribed.add(uri);
    return {};
  });
  server.server.setRequestHandler('resources/unsubscribe', async (req) => {
    subscribed.delete(req.params.uri);
    return {};
  });
  const updated = (uri: string) => {
    if (subscribed.has(uri)) server.server.sendResourceUpdated({ uri }).catch(() => undefined);
  };
  const offModels = deps.loader.onEvent((model) => {
    updated(`hf://models/${model}`);
    updated('hf://models');
    updated('hf://models/loaded');
  });
  const offSkills = deps.onSkillsChanged((c) => {
    if (c.added.length + c.removed.length > 0) void server.sendResourceListChanged();
    for (const name of [...c.added, ...c.removed, ...c.changed]) updated(`hf://models/${name}`);
    updated('hf://models');
  });
  return () => {
    offModels();
    offSkills();
  };
}

export function registerResources(server: McpServer, deps: ServerDeps): () => void {
  server.registerResource(
    'hardware',
    'hf://hardware',
    { title: 'Hardware', description: 'CPU, memory, GPUs, and the devices onnxruntime can use here.', mimeType: 'application/json' },
    async (uri, ctx) => {
      requireScope(ctx.http?.authInfo, READ_SCOPE);
      return json(uri.href, await hardwareView(deps));
    },
  );
  server.registerResource(
    'models',
    'hf://models',
    { title: 'Model registry', description: 'Every skill with its status, plus rejected manifests and why.', mimeType: 'application/json' },
    async (uri, ctx) => {
      requireScope(ctx.http?.authInfo, READ_SCOPE);
      return json(uri.href, { skills: deps.registry.skills.map((s) => skillView(deps, s.skill.name)), invalid: deps.registry.invalid });
    },
  );
  server.registerResource(
    'loaded-models',
    'hf://models/loaded',
    {
      title: 'Loaded models',
      description: 'Models in memory: device, dtype, load time, requests in flight.',
      mimeType: 'application/json',
    },
    async (uri, ctx) => {
      requireScope(ctx.http?.authInfo, READ_SCOPE);
      return json(uri.href, { models: deps.loader.list() });
    },
  );
  server.registerResource(
    'router',
    'hf://router',
    {
      title: 'Router',
      description: 'model "auto": per tool, each model chosen, its share, mean and p95 latency per unit of work, device and state.',
      mimeType: 'application/json',
    },
    async (uri, ctx) => {
      requireScope(ctx.http?.authInfo, READ_SCOPE);
      const tools = deps.router.view().map((t) => ({
        ...t,
        arms: t.arms.map((a) => ({ ...a, state: deps.loader.status(a.model).status })),
      }));
      return json(uri.href, { policy: 'thompson sampling on latency per unit; pinned splits are weighted random', tools });
    },
  );
  server.registerResource(
    'model',
    new ResourceTemplate('hf://models/{name}', {
      list: async () => ({
        resources: deps.registry.skills.map((s) => ({
          uri: `hf://models/${s.skill.name}`,
          name: s.skill.name,
          description: s.skill.description,
          mimeType: 'application/json',
        })),
      }),
      complete: { name: (prefix) => deps.registry.skills.map((s) => s.skill.name).filter((n) => n.startsWith(prefix)) },
    }),
    { title: 'Model', description: 'One skill: manifest, status and load details.', mimeType: 'application/json' },
    async (uri, vars, ctx) => {
      requireScope(ctx.http?.authInfo, READ_SCOPE);
      const name = String(vars.name);
      const view = skillView(deps, name);
      if (!view) throw new ServerError('unknown_model', `unknown model ${echo(name)}`);
      return json(uri.href, view);
    },
  );
  return serveSubscriptions(server, deps);
}
