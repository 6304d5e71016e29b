/**
 * What the default tool list costs an agent's context, counted on the list a client really gets
 * (the SDK's client, built-in skills, default --tools) with the GPT-4o tokenizer: it stays within
 * its budget, and the guidance an agent needs to call the tools right is still in it.
 */
import { describe, expect, it } from 'vitest';
import { TOOL_NAMES } from '../../src/config/config.js';
import { listedTools, o200k } from '../../tools/tool-list.js';

/** The budget for every default tool together (o200k tokens). */
const BUDGET = 4000;

describe('tool list tokens', () => {
  it(`the default tools cost at most ${BUDGET} o200k tokens, with descriptions, model choices and defaults kept`, async () => {
    const count = await o200k();
    const tools = await listedTools(TOOL_NAMES);
    expect(tools.length).toBeGreaterThanOrEqual(15);
    expect(count({ tools })).toBeLessThanOrEqual(BUDGET);
    for (const t of tools) {
      expect(t.description!.length, t.name).toBeGreaterThan(20);
      expect(t.outputSchema, `${t.name}: output schemas are opt-in`).toBeUndefined();
      for (const [field, schema] of Object.entries(t.inputSchema.properties ?? {}))
        expect((schema as { description?: string }).description, `${t.name}.${field}`).toBeTruthy();
    }
    const props = (name: string) => tools.find((t) => t.name === name)!.inputSchema.properties as Record<string, Record<string, unknown>>;
    expect(props('embed').model).toMatchObject({ default: 'all-minilm-l6-v2', enum: expect.arrayContaining(['all-minilm-l6-v2', 'auto']) });
    expect(props('generate').max_new_tokens).toMatchObject({ maximum: 2048 });
    // With --output-schemas the list carries them again, at a cost.
    const typed = await listedTools(TOOL_NAMES, { outputSchemas: true });
    for (const t of typed) expect(t.outputSchema?.type, t.name).toBe('object');
    expect(count({ tools: typed })).toBeGreaterThan(count({ tools }));
  });
});
