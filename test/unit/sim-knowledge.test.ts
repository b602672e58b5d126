import { KNOWLEDGE } from '../../backbones/sim/knowledge';
import { parsePrompt } from '../../backbones/sim/language';
import { COLORS } from '../../backbones/sim/scene';
import { COCO_CLASSES, MAX_COUNT } from '../../backbones/sim/world';

describe('the knowledge table', () => {
  test('has at least 100 distinct phrases of every kind', () => {
    expect(KNOWLEDGE.length).toBeGreaterThanOrEqual(100);
    expect(new Set(KNOWLEDGE.map((k) => k.phrase)).size).toBe(KNOWLEDGE.length);
    for (const kind of ['class', 'color', 'count'] as const) {
      expect(KNOWLEDGE.filter((k) => k.kind === kind).length).toBeGreaterThanOrEqual(20);
    }
  });

  test('names only COCO classes, palette colours and counts the sim can draw', () => {
    for (const entry of KNOWLEDGE) {
      if (entry.kind === 'class') expect(COCO_CLASSES).toContain(entry.value);
      else if (entry.kind === 'color') expect(COLORS).toContain(entry.value);
      else {
        expect(Number.isInteger(entry.value)).toBe(true);
        expect(entry.value).toBeGreaterThanOrEqual(1);
        expect(entry.value).toBeLessThanOrEqual(MAX_COUNT);
      }
      expect(entry.phrase).toBe(entry.phrase.toLowerCase());
    }
  });

  test.each(KNOWLEDGE.map((k) => [k.phrase, k] as const))('"%s" resolves in a prompt', (_phrase, entry) => {
    if (entry.kind === 'class') {
      const parsed = parsePrompt(`a photo of ${entry.phrase}`);
      expect(parsed.scene.objects).toEqual([{ cls: entry.value, count: 1 }]);
      expect(parsed.knowledge.map((k) => k.entry)).toEqual([entry]);
    } else if (entry.kind === 'color') {
      const parsed = parsePrompt(`a bench ${entry.phrase}`);
      expect(parsed.scene.objects).toEqual([{ cls: 'bench', count: 1, color: entry.value }]);
      expect(parsed.knowledge.map((k) => k.entry)).toEqual([entry]);
    } else {
      const parsed = parsePrompt(`as many cups as ${entry.phrase}`);
      expect(parsed.scene.objects).toEqual([{ cls: 'cup', count: entry.value }]);
      expect(parsed.knowledge.map((k) => k.entry)).toEqual([entry]);
    }
  });
});
