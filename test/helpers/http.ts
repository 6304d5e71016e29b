/**
 * In-process HTTP servers for tests: the real app and HTTP transport on a loopback port, offline,
 * with generated models (and, unless told otherwise, the test skills). Close them all with
 * `afterAll(closeHttpApps)`.
 */
import { pino } from 'pino';
import { createApp, type App } from '../../src/app.js';
import type { Logger } from '../../src/logger.js';
import { makeConfig } from '../../src/config/config.js';
import { startHttp, type HttpServer } from '../../src/transports/http/server.js';
import { makeModelsDir, makeSkillsDir, testSkills } from './server.js';

const running: Array<{ app: App; http: HttpServer }> = [];

/** A running server and its base URL (`http://127.0.0.1:<port>`). */
export interface HttpApp {
  app: App;
  http: HttpServer;
  base: string;
}

/**
 * Starts one; `skills: false` leaves out the test skills (built-in skills only); `builtin: false`
 * the built-ins; `logger` replaces the silent one.
 */
export async function startHttpApp(
  over: Parameters<typeof makeConfig>[0] = {},
  o: { skills?: Record<string, unknown> | false; builtin?: boolean; logger?: Logger } = {},
): Promise<HttpApp> {
  const skills = o.skills === false ? {} : { skillsDirs: [makeSkillsDir(o.skills ?? testSkills())] };
  const config = makeConfig({
    transport: 'http',
    port: 0,
    offline: true,
    modelsDir: makeModelsDir(),
    threads: 1,
    cacheBytes: 0,
    ...skills,
    ...over,
  });
  const app = createApp(config, {
    logger: o.logger ?? pino({ level: 'silent' }),
    useFsCache: false,
    ...(o.builtin === false ? { builtinSkillsDir: null } : {}),
  });
  const http = await startHttp(app);
  running.push({ app, http });
  return { app, http, base: `http://127.0.0.1:${http.port}` };
}

/** Closes every server started here. */
export async function closeHttpApps(): Promise<void> {
  for (const r of running.splice(0)) {
    await r.http.close(0);
    await r.app.close();
  }
}
