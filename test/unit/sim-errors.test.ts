import { applyErrors, KNOWLEDGE_UNRESOLVED } from '../../backbones/sim/errors';
import { describeScene, parsePrompt, type Constraint } from '../../backbones/sim/language';

const SEEDS = 1500;

/** Share of seeds whose drawn scene has no error at all. */
function cleanRate(prompt: string, intendedPrompt = prompt): number {
  const parsed = parsePrompt(prompt);
  expect(JSON.stringify(parsed.scene)).toBe(JSON.stringify(parsePrompt(intendedPrompt).scene));
  let clean = 0;
  for (let seed = 0; seed < SEEDS; seed++) if (applyErrors(parsed, prompt, seed).errors.length === 0) clean++;
  return clean / SEEDS;
}

/** Share of seeds with at least one error of `kind`. */
function errorRate(prompt: string, kind: string): number {
  const parsed = parsePrompt(prompt);
  let hits = 0;
  for (let seed = 0; seed < SEEDS; seed++) if (applyErrors(parsed, prompt, seed).errors.some((e) => e.kind === kind)) hits++;
  return hits / SEEDS;
}

/** An explicit rewrite as enhancement writes it: every count with "exactly", colours and positions said twice. */
function explicit(prompt: string): string {
  const scene = parsePrompt(prompt).scene;
  const stress: Constraint[] = [
    ...scene.objects.flatMap((o, i): Constraint[] => (o.color === undefined ? [] : [{ kind: 'color', object: i }])),
    ...scene.relations.map((_r, j): Constraint => ({ kind: 'relation', relation: j })),
  ];
  return describeScene(scene, stress);
}

describe('the sim generator error model', () => {
  test('is deterministic for a prompt and seed', () => {
    const prompt = 'three green bananas above a yellow bowl and a red cup';
    const parsed = parsePrompt(prompt);
    for (let seed = 0; seed < 50; seed++) expect(applyErrors(parsed, prompt, seed)).toEqual(applyErrors(parsed, prompt, seed));
    const plans = new Set(Array.from({ length: 50 }, (_x, seed) => JSON.stringify(applyErrors(parsed, prompt, seed).scene)));
    expect(plans.size).toBeGreaterThan(3);
  });

  test('gets simple prompts right most of the time and compositional ones less often', () => {
    const single = cleanRate('a photo of a cat');
    const two = cleanRate('a photo of a cat and a dog');
    const compositional = cleanRate('two red apples to the left of a blue cup');
    expect(single).toBeGreaterThan(0.9);
    expect(two).toBeGreaterThan(0.6);
    expect(two).toBeLessThan(single);
    expect(compositional).toBeLessThan(two - 0.2);
  });

  test('drops objects more often as scenes grow', () => {
    const small = errorRate('a cat and a dog', 'dropped');
    const large = errorRate('a cat, a dog, a horse, a cow and a sheep', 'dropped');
    expect(large).toBeGreaterThan(small + 0.2);
  });

  test('gets larger counts wrong more often', () => {
    expect(errorRate('seven cups', 'count')).toBeGreaterThan(errorRate('two cups', 'count') + 0.3);
  });

  test.each([
    'two red apples to the left of a blue cup',
    'three green bananas above a yellow bowl',
    'a purple bear next to two white cars',
  ])('makes fewer errors from an explicit rewrite of "%s"', (prompt) => {
    const naive = cleanRate(prompt);
    const rewritten = cleanRate(explicit(prompt), prompt);
    expect(rewritten).toBeGreaterThan(naive + 0.08);
  });

  test('stressing one constraint lowers that error only', () => {
    const prompt = 'two red apples to the left of a blue cup';
    const scene = parsePrompt(prompt).scene;
    const stressed = describeScene(scene, [{ kind: 'relation', relation: 0 }, { kind: 'relation', relation: 0 }]);
    expect(errorRate(stressed, 'relation')).toBeLessThan(errorRate(prompt, 'relation') - 0.1);
    expect(Math.abs(errorRate(stressed, 'color') - errorRate(prompt, 'color'))).toBeLessThan(0.05);
  });

  test('leaves knowledge phrases unresolved about as often as documented, and resolved prompts never', () => {
    const rate = errorRate('a photo of the animal that gives milk', 'knowledge');
    expect(Math.abs(rate - KNOWLEDGE_UNRESOLVED)).toBeLessThan(0.06);
    expect(errorRate('a photo of a cow', 'knowledge')).toBe(0);
    expect(cleanRate('a photo of a cow')).toBeGreaterThan(cleanRate('a photo of the animal that gives milk', 'a photo of a cow') + 0.3);
  });

  test('knowledge-heavy and vague prompts raise the other error rates', () => {
    const plain = errorRate('a cow next to a yellow car', 'relation');
    const heavy = errorRate('the animal that gives milk next to a car the colour of a ripe banana', 'relation');
    expect(heavy).toBeGreaterThan(plain + 0.04);
    expect(errorRate('some apples and a cup', 'dropped')).toBeGreaterThan(errorRate('two apples and a cup', 'dropped'));
  });

  test('breaks a relation by inverting it, so the layout cannot satisfy it by chance', () => {
    const prompt = 'a cat to the left of a dog';
    const parsed = parsePrompt(prompt);
    for (let seed = 0; seed < 200; seed++) {
      const plan = applyErrors(parsed, prompt, seed);
      if (plan.errors.some((e) => e.kind === 'relation')) expect(plan.scene.relations).toEqual([{ subject: 0, relation: 'right of', object: 1 }]);
    }
  });
});
