/**
 * @module rest
 * The REST front door's route table: OpenAI-compatible, TEI-compatible and task routes, the
 * OpenAPI description and its page. The HTTP transport matches a request here after its edge
 * checks and hands it to the route.
 */
import { docsRoutes } from './docs.js';
import { nativeRoutes } from './native.js';
import { openaiRoutes } from './openai.js';
import { openapiDocument } from './openapi.js';
import { rerankRoutes } from './rerank.js';
import { responsesRoutes } from './responses.js';
import { sendJson, type RestDeps, type RestRoute } from './route.js';
import { teiRoutes } from './tei.js';

export type { RestCall, RestDeps, RestRoute, ErrorStyle } from './route.js';
export { errorReply, sendJson } from './route.js';

/** A matched route and its path parameters. */
export interface RouteMatch {
  route: RestRoute;
  params: Record<string, string>;
}

export class RestRoutes {
  readonly routes: RestRoute[];
  private readonly exact = new Map<string, RestRoute[]>();
  private readonly patterns: Array<{ re: RegExp; names: string[]; route: RestRoute }> = [];

  constructor(deps: RestDeps, auth: boolean) {
    const routes = [
      ...openaiRoutes(deps),
      ...responsesRoutes(deps),
      ...rerankRoutes(deps),
      ...teiRoutes(deps),
      ...nativeRoutes(deps),
      ...docsRoutes(),
    ];
    // A task route whose path a compatible API already serves (`/v1/rerank`) is left out: the
    // first declaration serves the path, and the description must describe that one.
    const seen = new Set<string>();
    routes.splice(
      0,
      routes.length,
      ...routes.filter((r) => {
        const key = `${r.method} ${r.path}`;
        if (seen.has(key)) return false;
        seen.add(key);
        return true;
      }),
    );
    let document: string | undefined;
    routes.push({
      method: 'GET',
      path: '/openapi.json',
      style: 'openai',
      doc: { summary: 'This API description (OpenAPI 3.1)', tag: 'Server' },
      handle: async (call) => sendJson(call.res, 200, JSON.parse((document ??= JSON.stringify(openapiDocument(routes, auth))))),
    });
    this.routes = routes;
    for (const r of routes) {
      if (!r.path.includes('{')) {
        this.exact.set(r.path, [...(this.exact.get(r.path) ?? []), r]);
        continue;
      }
      const names: string[] = [];
      const escaped = r.path.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
      // A parameter may hold one slash: model names are often Hub ids (org/name).
      const re = new RegExp(
        `^${escaped.replace(/\{(\w+)\}/g, (_m, name: string) => {
          names.push(name);
          return '([^/]+(?:/[^/]+)?)';
        })}$`,
      );
      this.patterns.push({ re, names, route: r });
    }
  }

  /** Whether `path` is a REST path (of any method). */
  has(path: string): boolean {
    return this.exact.has(path) || this.patterns.some((p) => p.re.test(path));
  }

  /** The route for `method` and `path`; undefined when the path is not REST; the allowed methods when the method is wrong. */
  match(method: string, path: string): RouteMatch | { allowed: string[] } | undefined {
    const candidates: RouteMatch[] = [];
    for (const r of this.exact.get(path) ?? []) candidates.push({ route: r, params: {} });
    for (const p of this.patterns) {
      const m = p.re.exec(path);
      if (!m) continue;
      const params: Record<string, string> = {};
      p.names.forEach((n, i) => {
        try {
          params[n] = decodeURIComponent(m[i + 1]!);
        } catch {
          params[n] = m[i + 1]!;
        }
      });
      candidates.push({ route: p.route, params });
    }
    if (candidates.length === 0) return undefined;
    return candidates.find((c) => c.route.method === method) ?? { allowed: [...new Set(candidates.map((c) => c.route.method))] };
  }
}
