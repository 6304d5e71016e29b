/**
 * @module write-skill-schema
 * Writes skills/skill.schema.json from the zod manifest schema (`npm run skill-schema`).
 * A test fails when the committed file is out of date.
 */
import { writeFileSync } from 'node:fs';
import { skillJsonSchema } from '../src/skills/schema.js';

writeFileSync(new URL('../skills/skill.schema.json', import.meta.url), `${JSON.stringify(skillJsonSchema(), null, 2)}\n`);
