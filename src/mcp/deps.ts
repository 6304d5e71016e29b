/**
 * @module mcp/deps
 * What the MCP layer needs: the task layer's dependencies and task set, and the skill-change
 * feed that keeps each server's tool list current. Built once per process by app.ts.
 */
import type { TaskDeps } from '../tasks/deps.js';
import type { TaskSet } from '../tasks/index.js';
import type { SkillChange } from '../skills/live.js';
import type { ToolTasks } from './tasks.js';
import type { ToolSchemas } from './schemas.js';

export interface ServerDeps extends TaskDeps {
  /** The tasks, rebuilt in place from the registry whenever the skills change. */
  tasks: TaskSet;
  /** Calls `fn` after the skills changed and the tasks were rebuilt; returns the unsubscribe. */
  onSkillsChanged(fn: (c: SkillChange) => void): () => void;
  /** Long tool calls run as tasks (the tasks extension), shared by every server of the process. */
  toolTasks: ToolTasks;
  /** The tools' registered schemas, converted once for every server of the process. */
  toolSchemas: ToolSchemas;
}
