/**
 * @module mcp/deps
 * What the MCP layer needs: the task layer's dependencies and task set, plus the tool-result
 * maker (which remembers result JSON for the stdio transport). Built once per process by app.ts.
 */
import type { TaskDeps } from '../tasks/deps.js';
import type { TaskSet } from '../tasks/index.js';
import type { ToolResults } from './results.js';

export interface ServerDeps extends TaskDeps {
  /** The tasks, built once from the registry. */
  tasks: TaskSet;
  /** Makes tool results; remembers their JSON for the stdio transport. */
  results: ToolResults;
}
