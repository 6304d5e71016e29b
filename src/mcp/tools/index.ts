/**
 * @module mcp/tools
 * Registers every tool the configuration enables (`--tools`). A task tool is only registered
 * when at least one discovered skill serves its task.
 */
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { ToolName } from '../../config/config.js';
import type { ServerDeps } from '../deps.js';
import { registerBenchmarkModelTool } from './benchmark-model.js';
import { registerClassifyTool } from './classify.js';
import { registerDetectTool } from './detect.js';
import { registerDetectSpeechTool } from './detect-speech.js';
import { registerOcrTool } from './ocr.js';
import { registerTranscribeTool } from './transcribe.js';
import { registerEmbedTool } from './embed.js';
import { registerGenerateTool } from './generate.js';
import { registerLoadModelTool } from './load-model.js';
import { registerSimilarityTool } from './similarity.js';
import { registerUnloadModelTool } from './unload-model.js';

const REGISTRARS: Record<ToolName, (server: McpServer, deps: ServerDeps) => void> = {
  embed: registerEmbedTool,
  similarity: registerSimilarityTool,
  classify: registerClassifyTool,
  generate: registerGenerateTool,
  detect: registerDetectTool,
  ocr: registerOcrTool,
  transcribe: registerTranscribeTool,
  detect_speech: registerDetectSpeechTool,
  load_model: registerLoadModelTool,
  unload_model: registerUnloadModelTool,
  benchmark_model: registerBenchmarkModelTool,
};

export function registerTools(server: McpServer, deps: ServerDeps): void {
  for (const name of deps.config.tools) REGISTRARS[name](server, deps);
}
