// The benchmark suites' line formats and a loader that checks every line (suites are data from
// outside the code, so they are validated with the line number in any error).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { describeZodError } from '../../workflows/types';

export const GENERATION_CATEGORIES = [
  'single_object',
  'two_objects',
  'counting',
  'colors',
  'position',
  'color_attribution',
  'world_knowledge',
] as const;
export type GenerationCategory = (typeof GENERATION_CATEGORIES)[number];

export const EDIT_CATEGORIES = ['add', 'remove', 'recolor', 'move', 'count', 'replace', 'world_knowledge'] as const;
export type EditCategory = (typeof EDIT_CATEGORIES)[number];

const sceneSchema = z.object({
  objects: z.array(z.object({ cls: z.string(), count: z.number().int().positive(), color: z.string().optional() }).strict()),
  relations: z.array(z.object({ subject: z.number().int(), relation: z.string(), object: z.number().int() }).strict()),
});
const knowledgeSchema = z.array(z.object({ phrase: z.string(), value: z.union([z.string(), z.number()]) }).strict());

export const generationItemSchema = z
  .object({
    id: z.string().min(1),
    category: z.enum(GENERATION_CATEGORIES),
    prompt: z.string().min(1),
    /** The sim's parse of the prompt: the scene a correct image shows, knowledge resolved. */
    truth: z.object({ scene: sceneSchema, knowledge: knowledgeSchema }).strict(),
  })
  .strict();
export type GenerationItem = z.infer<typeof generationItemSchema>;

export const editItemSchema = z
  .object({
    id: z.string().min(1),
    category: z.enum(EDIT_CATEGORIES),
    /** The sim draws the source image from this prompt with `sourceSeed` (a seed it draws exactly right). */
    sourcePrompt: z.string().min(1),
    sourceSeed: z.number().int(),
    instruction: z.string().min(1),
    /** The source's scene and the edits the instruction asks for, as the sim parses them. */
    truth: z.object({ source: sceneSchema, ops: z.array(z.record(z.string(), z.unknown())), knowledge: knowledgeSchema }).strict(),
  })
  .strict();
export type EditItem = z.infer<typeof editItemSchema>;

function load<T>(file: string, schema: z.ZodType<T>): T[] {
  const path = join(__dirname, file);
  return readFileSync(path, 'utf8')
    .split('\n')
    .flatMap((line, i) => {
      if (line.trim() === '') return [];
      const parsed = schema.safeParse(JSON.parse(line));
      if (!parsed.success) throw new Error(`${path}:${i + 1}: ${describeZodError(parsed.error, 'line')}. Rebuild the suites with \`npx tsx bench/suites/build.ts\`.`);
      return [parsed.data];
    });
}

export function loadGenerationSuite(): GenerationItem[] {
  return load('generation.jsonl', generationItemSchema);
}

export function loadEditingSuite(): EditItem[] {
  return load('editing.jsonl', editItemSchema);
}

/** The first `k` items of each category, in suite order: a stratified sample that is the same every run. */
export function perCategory<T extends { category: string }>(items: readonly T[], k: number): T[] {
  const taken = new Map<string, number>();
  return items.filter((item) => {
    const n = taken.get(item.category) ?? 0;
    taken.set(item.category, n + 1);
    return n < k;
  });
}
