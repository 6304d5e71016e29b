/**
 * @module mcp/resources
 * Read-only JSON resources: hardware (`hf://hardware`), the model registry with each skill's
 * status and every rejected manifest (`hf://models`), loaded models (`hf://models/loaded`), and a
 * template resource per model (`hf://models/{name}`). Reading any of them needs the
 * `models:read` scope over authenticated HTTP: the registry shows local paths.
 */
import { ResourceTemplate, type McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { ServerError, echo } from '../../errors.js';
import type { ServerDeps } from '../deps.js';
import { READ_SCOPE, requireScope } from '../../tasks/scopes.js';
import { hardwareView, skillView } from '../../tasks/views.js';

const json = (uri: string, data: unknown) => ({ contents: [{ uri, mimeType: 'application/json', text: JSON.stringify(data, null, 2) }] });

export function registerResources(server: McpServer, deps: ServerDeps): void {
  server.registerResource(
    'hardware',
    'hf://hardware',
    { title: 'Hardware', description: 'CPU, memory, GPUs, and the devices onnxruntime can use here.', mimeType: 'application/json' },
    async (uri, extra) => {
      requireScope(extra.authInfo, READ_SCOPE);
      return json(uri.href, await hardwareView(deps));
    },
  );
  server.registerResource(
    'models',
    'hf://models',
    { title: 'Model registry', description: 'Every skill with its status, plus rejected manifests and why.', mimeType: 'application/json' },
    async (uri, extra) => {
      requireScope(extra.authInfo, READ_SCOPE);
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
    async (uri, extra) => {
      requireScope(extra.authInfo, READ_SCOPE);
      return json(uri.href, { models: deps.loader.list() });
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
    async (uri, vars, extra) => {
      requireScope(extra.authInfo, READ_SCOPE);
      const name = String(vars.name);
      const view = skillView(deps, name);
      if (!view) throw new ServerError('unknown_model', `unknown model ${echo(name)}`);
      return json(uri.href, view);
    },
  );
}
