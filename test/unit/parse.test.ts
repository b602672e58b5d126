// Pins how model answers are read: boxed actions and the PSR/AUR/AVR flags, scores, revised
// prompts, edit instructions and enhancement plans, across well-formed and malformed replies.
import {
  extractBoxed,
  MAX_REASONING_CHARS,
  normaliseActionName,
  parseBoxedText,
  parseControllerAnswer,
  parseEnhancement,
  parseScore,
  summariseReasoning,
  type Enhancement,
  type ScoreAnswer,
} from '../../prompts/parse';
import { ACTION_ALIASES, ACTIONS, type ActionName, type Decision } from '../../workflows/types';

const raw = String.raw;

describe('extractBoxed', () => {
  it.each<[string, string, string[]]>([
    ['reads a single box', raw`Answer: \boxed{generate_basic}`, ['generate_basic']],
    ['reads every box in order', raw`\boxed{a} then \boxed{b} and \boxed{c}`, ['a', 'b', 'c']],
    ['keeps a nested \\text{} wrapper whole', raw`\boxed{\text{generate_basic}}`, [raw`\text{generate_basic}`]],
    ['balances nested braces', raw`\boxed{a {b} c}`, ['a {b} c']],
    ['balances deeply nested braces', raw`\boxed{\text{x {y {z}}}} tail`, [raw`\text{x {y {z}}}`]],
    ['allows whitespace between \\boxed and its brace', raw`\boxed { x }`, ['x']],
    ['trims newlines inside a box', '\\boxed{\n  generate_basic\n}', ['generate_basic']],
    ['ignores a box that never closes', raw`Answer: \boxed{generate_basic`, []],
    ['finds a closed box after an unclosed one', raw`\boxed{oops \boxed{STOP}`, ['STOP']],
    ['reads a double-escaped \\\\boxed', raw`"Answer: \\boxed{STOP}"`, ['STOP']],
    ['treats escaped braces as literal', raw`\boxed{a \} b}`, [raw`a \} b`]],
    ['returns an empty box as an empty string', raw`\boxed{} \boxed{  }`, ['', '']],
    ['returns nothing when there is no box', 'Answer: generate_basic', []],
    ['does not read \\boxedx or a bare "boxed"', raw`boxed{a} \boxedx{b}`, []],
  ])('%s', (_behaviour, text, expected) => {
    expect(extractBoxed(text)).toEqual(expected);
  });
});

describe('normaliseActionName', () => {
  const everyAlias = ACTIONS.flatMap((action) => ACTION_ALIASES[action].map((alias) => [alias, action] as const));

  it.each(everyAlias)('reads the alias %s as %s', (alias, action) => {
    expect(normaliseActionName(alias)).toBe(action);
  });

  it.each<[string, string, ActionName | null]>([
    ['reads canonical names', 'best_of_n', 'best_of_n'],
    ['ignores case', 'GENERATE_WITH_THINK', 'prompt_enhancement'],
    ['reads the paper capitalisation of Best-of-N', 'best_of_N_sampling', 'best_of_n'],
    ['tolerates surrounding whitespace', '  \n generate_basic \t', 'naive_generation'],
    ['reads an action wrapped in \\text{}', raw`\text{generate_with_self_edit}`, 'image_detail_refinement'],
    ['reads an action wrapped in \\texttt{}', raw`\texttt{prompt_refinement}`, 'prompt_revision'],
    ['reads an action wrapped in \\mathrm{}', raw`\mathrm{STOP}`, 'stop'],
    ['reads LaTeX-escaped underscores', raw`\text{generate\_with\_think}`, 'prompt_enhancement'],
    ['strips double quotes', '"generate_basic"', 'naive_generation'],
    ['strips single quotes', "'STOP'", 'stop'],
    ['strips backticks', '`best_of_n_selection`', 'best_of_n'],
    ['strips markdown bold', '**STOP**', 'stop'],
    ['strips trailing punctuation', 'STOP.', 'stop'],
    ['strips several trailing punctuation marks', 'generate_basic!?', 'naive_generation'],
    ['reads spaces instead of underscores', 'Best of N Sampling', 'best_of_n'],
    ['reads dashes instead of underscores', 'generate-basic', 'naive_generation'],
    ['reads mixed separators', 'image detail-refinement', 'image_detail_refinement'],
    ['drops a leading "action:"', 'action: generate_with_self_assess', 'prompt_revision'],
    ['drops a leading "Action:" with odd spacing', 'Action :Naive Generation', 'naive_generation'],
    ['reads an action in inline math', raw`$\mathrm{generate\_basic}$`, 'naive_generation'],
    ['reads an action in angle brackets', '<generate_with_think>', 'prompt_enhancement'],
    ['drops a leading "Answer:"', 'Answer: STOP', 'stop'],
    ['peels wrappers inside quotes', raw`"\text{STOP}"`, 'stop'],
    ['rejects an unknown name', 'generate_video', null],
    ['rejects an empty name', '', null],
    ['rejects a sentence that merely contains an action', 'I choose generate_basic', null],
    ['rejects a partial name', 'generate_with', null],
  ])('%s', (_behaviour, name, expected) => {
    expect(normaliseActionName(name)).toBe(expected);
  });
});

function decision(
  text: string,
  reasoning: string,
  action: ActionName | null,
  named: string[],
  [found, unique, valid]: [boolean, boolean, boolean],
): Decision {
  return { raw: text, reasoning, action, named, parse: { found, unique, valid } };
}

const OK: [boolean, boolean, boolean] = [true, true, true];

describe('parseControllerAnswer', () => {
  describe('well-formed answers', () => {
    it.each<[string, string, ActionName, string]>([
      ['reads generate_basic', 'generate_basic', 'naive_generation', 'The prompt is short.'],
      ['reads generate_with_think', 'generate_with_think', 'prompt_enhancement', 'It needs world knowledge.'],
      ['reads generate_with_self_assess', 'generate_with_self_assess', 'prompt_revision', 'The cup is missing.'],
      ['reads generate_with_self_edit', 'generate_with_self_edit', 'image_detail_refinement', 'The apple is green.'],
      ['reads best_of_n_selection', 'best_of_n_selection', 'best_of_n', 'Samples keep failing.'],
      ['reads STOP', 'STOP', 'stop', 'Everything matches.'],
      ['reads naive_generation', 'naive_generation', 'naive_generation', 'Simple.'],
      ['reads prompt_enhancement', 'prompt_enhancement', 'prompt_enhancement', 'Complex.'],
      ['reads prompt_refinement', 'prompt_refinement', 'prompt_revision', 'Wrong colour.'],
      ['reads image_detail_refinement', 'image_detail_refinement', 'image_detail_refinement', 'Small flaw.'],
      ['reads best_of_N_sampling', 'best_of_N_sampling', 'best_of_n', 'Unlucky seeds.'],
      ['reads a lower-case stop', 'stop', 'stop', 'Done.'],
      ['reads an upper-case name', 'GENERATE_WITH_THINK', 'prompt_enhancement', 'Plan first.'],
      ['reads a title-case name with spaces', 'Prompt Enhancement', 'prompt_enhancement', 'Plan first.'],
    ])('%s', (_behaviour, name, action, reasoning) => {
      const text = `Reasoning: ${reasoning}\nAnswer: \\boxed{${name}}`;
      expect(parseControllerAnswer(text)).toEqual(decision(text, reasoning, action, [name], OK));
    });
  });

  it.each<[string, string, Decision]>([
    [
      'reads an action wrapped in \\text{} and keeps the name as written',
      raw`Reasoning: fine. Answer: \boxed{\text{STOP}}`,
      decision(raw`Reasoning: fine. Answer: \boxed{\text{STOP}}`, 'fine.', 'stop', [raw`\text{STOP}`], OK),
    ],
    [
      'reads an action in backticks inside the box',
      'Reasoning: go.\nAnswer: \\boxed{`generate_basic`}',
      decision('Reasoning: go.\nAnswer: \\boxed{`generate_basic`}', 'go.', 'naive_generation', ['`generate_basic`'], OK),
    ],
    [
      'reads markdown labels',
      '**Reasoning:** the cup is blue.\n\n**Answer:** \\boxed{STOP}',
      decision('**Reasoning:** the cup is blue.\n\n**Answer:** \\boxed{STOP}', 'the cup is blue.', 'stop', ['STOP'], OK),
    ],
    [
      'tolerates extra whitespace and newlines everywhere',
      'Reasoning:\n\n   no image yet, simple prompt  \n\nAnswer:\n\\boxed {\n  generate_basic \n}\n',
      decision(
        'Reasoning:\n\n   no image yet, simple prompt  \n\nAnswer:\n\\boxed {\n  generate_basic \n}\n',
        'no image yet, simple prompt',
        'naive_generation',
        ['generate_basic'],
        OK,
      ),
    ],
    [
      'takes the reasoning as everything before the first box when labels are missing',
      raw`The image matches. \boxed{STOP}`,
      decision(raw`The image matches. \boxed{STOP}`, 'The image matches.', 'stop', ['STOP'], OK),
    ],
    [
      'reads a bare box with no reasoning',
      raw`\boxed{generate_basic}`,
      decision(raw`\boxed{generate_basic}`, '', 'naive_generation', ['generate_basic'], OK),
    ],
    [
      'ends the reasoning at the last Answer: label',
      raw`Reasoning: the answer: not yet. Answer: \boxed{STOP}`,
      decision(raw`Reasoning: the answer: not yet. Answer: \boxed{STOP}`, 'the answer: not yet.', 'stop', ['STOP'], OK),
    ],
    [
      'reads a double-escaped answer',
      raw`Reasoning: ok. Answer: \\boxed{\\text{generate\\_basic}}`,
      decision(
        raw`Reasoning: ok. Answer: \\boxed{\\text{generate\\_basic}}`,
        'ok.',
        'naive_generation',
        [raw`\\text{generate\\_basic}`],
        OK,
      ),
    ],
    [
      'reports the same action boxed twice as unique',
      raw`Reasoning: sure. \boxed{STOP} Answer: \boxed{STOP}`,
      decision(raw`Reasoning: sure. \boxed{STOP} Answer: \boxed{STOP}`, 'sure.', 'stop', ['STOP'], OK),
    ],
    [
      'reports one action in both vocabularies as unique and lists both names',
      raw`\boxed{generate_with_think} \boxed{prompt_enhancement}`,
      decision(
        raw`\boxed{generate_with_think} \boxed{prompt_enhancement}`,
        '',
        'prompt_enhancement',
        ['generate_with_think', 'prompt_enhancement'],
        OK,
      ),
    ],
    [
      'reports two different actions as not unique',
      raw`Reasoning: either. Answer: \boxed{generate_basic} \boxed{STOP}`,
      decision(raw`Reasoning: either. Answer: \boxed{generate_basic} \boxed{STOP}`, 'either.', null, ['generate_basic', 'STOP'], [
        true,
        false,
        false,
      ]),
    ],
    [
      'reports two actions separated by a comma in one box as not unique',
      raw`\boxed{generate_basic, best_of_n_selection}`,
      decision(raw`\boxed{generate_basic, best_of_n_selection}`, '', null, ['generate_basic', 'best_of_n_selection'], [
        true,
        false,
        false,
      ]),
    ],
    [
      'reports "a or b" in one box as not unique',
      raw`\boxed{generate_with_self_assess or generate_with_self_edit}`,
      decision(
        raw`\boxed{generate_with_self_assess or generate_with_self_edit}`,
        '',
        null,
        ['generate_with_self_assess', 'generate_with_self_edit'],
        [true, false, false],
      ),
    ],
    [
      'reports "a / b" inside one \\text{} as not unique',
      raw`\boxed{\text{STOP / generate_basic}}`,
      decision(raw`\boxed{\text{STOP / generate_basic}}`, '', null, ['STOP', 'generate_basic'], [true, false, false]),
    ],
    [
      'reports "a and b" in one box as not unique',
      raw`\boxed{generate_with_think and best_of_n_selection}`,
      decision(
        raw`\boxed{generate_with_think and best_of_n_selection}`,
        '',
        null,
        ['generate_with_think', 'best_of_n_selection'],
        [true, false, false],
      ),
    ],
    [
      'reads one action named twice in a box as unique',
      raw`\boxed{STOP, stop}`,
      decision(raw`\boxed{STOP, stop}`, '', 'stop', ['STOP', 'stop'], OK),
    ],
    [
      'reports an unknown action as found, unique and not valid',
      raw`Reasoning: try video. Answer: \boxed{generate_video}`,
      decision(raw`Reasoning: try video. Answer: \boxed{generate_video}`, 'try video.', null, ['generate_video'], [
        true,
        true,
        false,
      ]),
    ],
    [
      'reports two different unknown names as not unique',
      raw`\boxed{foo} \boxed{bar}`,
      decision(raw`\boxed{foo} \boxed{bar}`, '', null, ['foo', 'bar'], [true, false, false]),
    ],
    [
      'reports an unknown name beside a known one as not unique',
      raw`\boxed{STOP} \boxed{finish}`,
      decision(raw`\boxed{STOP} \boxed{finish}`, '', null, ['STOP', 'finish'], [true, false, false]),
    ],
    [
      'reads the reasoning when it follows the answer',
      'Answer: \\boxed{STOP}\nReasoning: all objects are present.',
      decision('Answer: \\boxed{STOP}\nReasoning: all objects are present.', 'all objects are present.', 'stop', ['STOP'], OK),
    ],
    [
      'reports an answer with no box as not found',
      'Reasoning: simple.\nAnswer: generate_basic',
      decision('Reasoning: simple.\nAnswer: generate_basic', 'simple.', null, [], [false, false, false]),
    ],
    [
      'reports an action in prose only as not found',
      'I would pick generate_with_think because the prompt needs knowledge.',
      decision(
        'I would pick generate_with_think because the prompt needs knowledge.',
        'I would pick generate_with_think because the prompt needs knowledge.',
        null,
        [],
        [false, false, false],
      ),
    ],
    [
      'reports JSON instead of a box as not found',
      '{"reasoning": "simple", "action": "generate_basic"}',
      decision('{"reasoning": "simple", "action": "generate_basic"}', '{"reasoning": "simple", "action": "generate_basic"}', null, [], [
        false,
        false,
        false,
      ]),
    ],
    [
      'reports a markdown code span instead of a box as not found',
      'Reasoning: done.\nAnswer: `STOP`',
      decision('Reasoning: done.\nAnswer: `STOP`', 'done.', null, [], [false, false, false]),
    ],
    [
      'reports an empty box as not found',
      raw`Reasoning: hmm. Answer: \boxed{}`,
      decision(raw`Reasoning: hmm. Answer: \boxed{}`, 'hmm.', null, [], [false, false, false]),
    ],
    [
      'reports a box holding only a wrapper as not found',
      raw`\boxed{\text{ }}`,
      decision(raw`\boxed{\text{ }}`, '', null, [], [false, false, false]),
    ],
    [
      'reports an unclosed box as not found',
      raw`Reasoning: ok. Answer: \boxed{generate_basic`,
      decision(raw`Reasoning: ok. Answer: \boxed{generate_basic`, 'ok.', null, [], [false, false, false]),
    ],
    [
      'reads the closed box after an unclosed one',
      raw`\boxed{generate_basic \boxed{STOP}`,
      decision(raw`\boxed{generate_basic \boxed{STOP}`, '', 'stop', ['STOP'], OK),
    ],
    [
      'reports the template placeholder echoed back as an unknown action',
      raw`Answer: \boxed{<one action name from the list>}`,
      decision(raw`Answer: \boxed{<one action name from the list>}`, '', null, ['<one action name from the list>'], [
        true,
        true,
        false,
      ]),
    ],
  ])('%s', (_behaviour, text, expected) => {
    expect(parseControllerAnswer(text)).toEqual(expected);
  });

  it('caps very long reasoning', () => {
    const long = 'The scene has many parts to check. '.repeat(200);
    const result = parseControllerAnswer(`Reasoning: ${long}\nAnswer: \\boxed{best_of_n_selection}`);
    expect(result.reasoning.length).toBeLessThanOrEqual(MAX_REASONING_CHARS);
    expect(result.reasoning.length).toBeGreaterThan(MAX_REASONING_CHARS - 10);
    expect(result.reasoning.endsWith('…')).toBe(true);
    expect(result.reasoning.startsWith('The scene has many parts')).toBe(true);
    expect(result.action).toBe('best_of_n');
    expect(result.parse).toEqual({ found: true, unique: true, valid: true });
  });
});

describe('parseScore', () => {
  it.each<[string, string, ScoreAnswer]>([
    ['reads an integer', 'Reasoning: all there.\nScore: \\boxed{7}', { score: 7, reasoning: 'all there.' }],
    ['reads a decimal', 'Reasoning: close.\nScore: \\boxed{7.5}', { score: 7.5, reasoning: 'close.' }],
    ['reads zero', 'Reasoning: nothing.\nScore: \\boxed{0}', { score: 0, reasoning: 'nothing.' }],
    ['reads ten', 'Reasoning: perfect.\nScore: \\boxed{10}', { score: 10, reasoning: 'perfect.' }],
    ['reads "7/10"', 'Reasoning: ok.\nScore: \\boxed{7/10}', { score: 7, reasoning: 'ok.' }],
    ['reads "8 / 10"', 'Reasoning: ok.\nScore: \\boxed{8 / 10}', { score: 8, reasoning: 'ok.' }],
    ['scales "3/5" to ten', 'Reasoning: ok.\nScore: \\boxed{3/5}', { score: 6, reasoning: 'ok.' }],
    ['reads "7 out of 10"', 'Reasoning: ok.\nScore: \\boxed{7 out of 10}', { score: 7, reasoning: 'ok.' }],
    ['reads a \\frac', raw`Reasoning: ok. Score: \boxed{\frac{9}{10}}`, { score: 9, reasoning: 'ok.' }],
    ['reads a score wrapped in \\text{}', raw`Reasoning: ok. Score: \boxed{\text{8}}`, { score: 8, reasoning: 'ok.' }],
    ['reads "score: 9" inside the box', raw`Reasoning: ok. \boxed{score: 9}`, { score: 9, reasoning: 'ok.' }],
    ['reads a score with a trailing full stop', raw`Reasoning: ok. Score: \boxed{6.}`, { score: 6, reasoning: 'ok.' }],
    ['reads the last of several boxes', raw`Reasoning: first \boxed{3} then. Score: \boxed{5}`, { score: 5, reasoning: 'first' }],
    ['falls back to "Score: N" without a box', 'Reasoning: mostly right.\nScore: 6', { score: 6, reasoning: 'mostly right.' }],
    ['falls back to "**Score:** 7/10" without a box', 'Reasoning: fine.\n**Score:** 7/10 overall', { score: 7, reasoning: 'fine.' }],
    ['takes the reasoning before the first box when labels are missing', raw`Two apples, one cup. \boxed{9}`, { score: 9, reasoning: 'Two apples, one cup.' }],
    ['rejects 11 as out of range', 'Reasoning: great.\nScore: \\boxed{11}', { score: null, reasoning: 'great.' }],
    ['rejects -1 as out of range', 'Reasoning: bad.\nScore: \\boxed{-1}', { score: null, reasoning: 'bad.' }],
    ['rejects "12/10" as out of range', 'Reasoning: wow.\nScore: \\boxed{12/10}', { score: null, reasoning: 'wow.' }],
    ['rejects a zero denominator', 'Reasoning: odd.\nScore: \\boxed{3/0}', { score: null, reasoning: 'odd.' }],
    ['rejects a word', 'Reasoning: looks good.\nScore: \\boxed{high}', { score: null, reasoning: 'looks good.' }],
    ['rejects NaN', 'Reasoning: ?\nScore: \\boxed{NaN}', { score: null, reasoning: '?' }],
    ['rejects an empty box', 'Reasoning: unsure.\nScore: \\boxed{}', { score: null, reasoning: 'unsure.' }],
    ['rejects an empty reply', '', { score: null, reasoning: '' }],
    ['rejects a reply with no box and no score line', 'The image is nice.', { score: null, reasoning: 'The image is nice.' }],
    ['does not fall back to a score line when the box is unreadable', 'Score: 4\n\\boxed{four}', { score: null, reasoning: '' }],
  ])('%s', (_behaviour, text, expected) => {
    expect(parseScore(text)).toEqual(expected);
  });
});

describe('parseBoxedText', () => {
  it.each<[string, string, string | null]>([
    ['reads a revised prompt', 'Analysis: no cup.\nRevised prompt: \\boxed{two red apples left of a blue cup}', 'two red apples left of a blue cup'],
    ['reads an edit instruction', 'Analysis: green apple.\nInstruction: \\boxed{make the left apple red}', 'make the left apple red'],
    ['strips a \\text{} wrapper', raw`Instruction: \boxed{\text{add a blue cup}}`, 'add a blue cup'],
    ['strips surrounding quotes', 'Revised prompt: \\boxed{"a cat on a mat"}', 'a cat on a mat'],
    ['strips curly quotes inside a wrapper', raw`\boxed{\text{“a cat on a mat”}}`, 'a cat on a mat'],
    ['keeps nested braces', raw`\boxed{a {red} apple}`, 'a {red} apple'],
    ['joins lines and unescapes LaTeX characters', '\\boxed{salt \\& pepper,\n  50\\% grey}', 'salt & pepper, 50% grey'],
    ['reads the last box', raw`\boxed{first draft} then \boxed{final prompt}`, 'final prompt'],
    ['returns null for an empty box', 'Revised prompt: \\boxed{  }', null],
    ['returns null for empty quotes', 'Revised prompt: \\boxed{""}', null],
    ['returns null without a box', 'Revised prompt: a red apple', null],
    ['returns null for an unclosed box', 'Revised prompt: \\boxed{a red apple', null],
  ])('%s', (_behaviour, text, expected) => {
    expect(parseBoxedText(text)).toBe(expected);
  });
});

describe('parseEnhancement', () => {
  it.each<[string, string, Enhancement]>([
    [
      'reads the plan and the boxed prompt',
      '<think>Two apples, one cup; apples on the left.</think>\n\\boxed{two red apples to the left of a blue cup}',
      { plan: 'Two apples, one cup; apples on the left.', prompt: 'two red apples to the left of a blue cup' },
    ],
    [
      'reads think tags in any case',
      '<THINK>\nplan\n</Think> \\boxed{prompt}',
      { plan: 'plan', prompt: 'prompt' },
    ],
    [
      'takes the last box after the think block',
      '<think>maybe \\boxed{draft}</think> \\boxed{first} \\boxed{final}',
      { plan: 'maybe \\boxed{draft}', prompt: 'final' },
    ],
    [
      'takes the text after </think> without a box, label stripped',
      '<think>plan</think>\n\nFinal prompt: a golden retriever in snow',
      { plan: 'plan', prompt: 'a golden retriever in snow' },
    ],
    [
      'takes the text after </think> without a box or label',
      '<think>plan</think> A red apple on a wooden table. ',
      { plan: 'plan', prompt: 'A red apple on a wooden table.' },
    ],
    [
      'reads an unclosed box after </think> as text',
      '<think>plan</think> Prompt: \\boxed{a blue cup',
      { plan: 'plan', prompt: 'a blue cup' },
    ],
    [
      'returns a null prompt when nothing follows </think>',
      '<think>just a plan</think>\n  ',
      { plan: 'just a plan', prompt: null },
    ],
    [
      'returns a null prompt for an empty box after </think>',
      '<think>plan</think> \\boxed{}',
      { plan: 'plan', prompt: null },
    ],
    [
      'takes everything after an unclosed <think> as the plan',
      'Sure. <think>The Eiffel Tower is in Paris, so',
      { plan: 'The Eiffel Tower is in Paris, so', prompt: null },
    ],
    [
      'reads a box inside an unclosed <think>',
      '<think>resolve the landmark \\boxed{the Eiffel Tower at night}',
      { plan: 'resolve the landmark \\boxed{the Eiffel Tower at night}', prompt: 'the Eiffel Tower at night' },
    ],
    [
      'reads a boxed prompt without a think block',
      'Here is the prompt: \\boxed{a \\text{bright} red apple}',
      { plan: '', prompt: 'a bright red apple' },
    ],
    [
      'reads a bare prompt without a think block',
      'Prompt: "three yellow bananas"',
      { plan: '', prompt: 'three yellow bananas' },
    ],
    ['returns nothing for an empty reply', '', { plan: '', prompt: null }],
  ])('%s', (_behaviour, text, expected) => {
    expect(parseEnhancement(text)).toEqual(expected);
  });
});

describe('summariseReasoning', () => {
  it.each<[string, string, number | undefined, string]>([
    ['keeps the first sentence', 'No image yet. The prompt is simple.', undefined, 'No image yet.'],
    ['joins lines', 'The cup\n  is missing! Revise.', undefined, 'The cup is missing!'],
    ['does not split inside a decimal', 'Score 7.5 is fine. Stop.', undefined, 'Score 7.5 is fine.'],
    ['drops a leading Reasoning: label', 'Reasoning: all done. Yes.', undefined, 'all done.'],
    ['keeps text without a full stop', 'needs more detail', undefined, 'needs more detail'],
    ['cuts a long sentence at a word boundary', 'alpha beta gamma delta epsilon', 20, 'alpha beta gamma…'],
    ['cuts a long word hard', 'abcdefghijklmnopqrstuvwxyz', 10, 'abcdefghi…'],
    ['returns an empty string for empty text', '  \n ', undefined, ''],
  ])('%s', (_behaviour, text, maxChars, expected) => {
    const summary = summariseReasoning(text, maxChars);
    expect(summary).toBe(expected);
    expect(summary.length).toBeLessThanOrEqual(maxChars ?? 160);
  });
});
