// The sim's vocabulary as English words: what prompts call the 80 COCO classes, the palette's
// colours and the numbers. The class order and the RGB values themselves live in palette.ts, the
// one place the pixel side reads them from; they are re-exported here for the text side.
import { COLORS, type ColorName } from './scene';

export { COCO_CLASSES, COLOR_RGB } from './palette';

export interface ClassInfo {
  /** The COCO class name, singular; what Scene and Instance carry. */
  cls: string;
  /** How a prompt names one of them ("pair of skis" reads better than "skis" for one). */
  singular: string;
  plural: string;
  /** Other words for one of them. */
  aliases?: readonly string[];
  /** Other words for several of them. */
  pluralAliases?: readonly string[];
}

/** In COCO order, the same as palette.ts's COCO_CLASSES (a unit test holds them together). */
export const CLASS_INFO: readonly ClassInfo[] = [
  { cls: 'person', singular: 'person', plural: 'people',
    aliases: ['man', 'woman', 'boy', 'girl', 'child', 'kid'],
    pluralAliases: ['persons', 'men', 'women', 'boys', 'girls', 'children', 'kids'] },
  { cls: 'bicycle', singular: 'bicycle', plural: 'bicycles', aliases: ['bike'], pluralAliases: ['bikes'] },
  { cls: 'car', singular: 'car', plural: 'cars', aliases: ['automobile'], pluralAliases: ['automobiles'] },
  { cls: 'motorcycle', singular: 'motorcycle', plural: 'motorcycles', aliases: ['motorbike'], pluralAliases: ['motorbikes'] },
  { cls: 'airplane', singular: 'airplane', plural: 'airplanes',
    aliases: ['aeroplane', 'plane'], pluralAliases: ['aeroplanes', 'planes'] },
  { cls: 'bus', singular: 'bus', plural: 'buses' },
  { cls: 'train', singular: 'train', plural: 'trains' },
  { cls: 'truck', singular: 'truck', plural: 'trucks', aliases: ['lorry'], pluralAliases: ['lorries'] },
  { cls: 'boat', singular: 'boat', plural: 'boats', aliases: ['ship'], pluralAliases: ['ships'] },
  { cls: 'traffic light', singular: 'traffic light', plural: 'traffic lights' },
  { cls: 'fire hydrant', singular: 'fire hydrant', plural: 'fire hydrants', aliases: ['hydrant'], pluralAliases: ['hydrants'] },
  { cls: 'stop sign', singular: 'stop sign', plural: 'stop signs' },
  { cls: 'parking meter', singular: 'parking meter', plural: 'parking meters' },
  { cls: 'bench', singular: 'bench', plural: 'benches' },
  { cls: 'bird', singular: 'bird', plural: 'birds' },
  { cls: 'cat', singular: 'cat', plural: 'cats', aliases: ['kitten'], pluralAliases: ['kittens'] },
  { cls: 'dog', singular: 'dog', plural: 'dogs', aliases: ['puppy'], pluralAliases: ['puppies'] },
  { cls: 'horse', singular: 'horse', plural: 'horses', aliases: ['pony'], pluralAliases: ['ponies'] },
  { cls: 'sheep', singular: 'sheep', plural: 'sheep', aliases: ['lamb'], pluralAliases: ['lambs'] },
  { cls: 'cow', singular: 'cow', plural: 'cows' },
  { cls: 'elephant', singular: 'elephant', plural: 'elephants' },
  { cls: 'bear', singular: 'bear', plural: 'bears' },
  { cls: 'zebra', singular: 'zebra', plural: 'zebras' },
  { cls: 'giraffe', singular: 'giraffe', plural: 'giraffes' },
  { cls: 'backpack', singular: 'backpack', plural: 'backpacks', aliases: ['rucksack'], pluralAliases: ['rucksacks'] },
  { cls: 'umbrella', singular: 'umbrella', plural: 'umbrellas' },
  { cls: 'handbag', singular: 'handbag', plural: 'handbags', aliases: ['purse'], pluralAliases: ['purses'] },
  { cls: 'tie', singular: 'tie', plural: 'ties', aliases: ['necktie'], pluralAliases: ['neckties'] },
  { cls: 'suitcase', singular: 'suitcase', plural: 'suitcases' },
  { cls: 'frisbee', singular: 'frisbee', plural: 'frisbees' },
  { cls: 'skis', singular: 'pair of skis', plural: 'pairs of skis', aliases: ['ski'], pluralAliases: ['skis'] },
  { cls: 'snowboard', singular: 'snowboard', plural: 'snowboards' },
  { cls: 'sports ball', singular: 'sports ball', plural: 'sports balls',
    aliases: ['ball', 'soccer ball', 'football', 'basketball', 'tennis ball'],
    pluralAliases: ['balls', 'soccer balls', 'footballs', 'basketballs', 'tennis balls'] },
  { cls: 'kite', singular: 'kite', plural: 'kites' },
  { cls: 'baseball bat', singular: 'baseball bat', plural: 'baseball bats' },
  { cls: 'baseball glove', singular: 'baseball glove', plural: 'baseball gloves', aliases: ['baseball mitt'], pluralAliases: ['baseball mitts'] },
  { cls: 'skateboard', singular: 'skateboard', plural: 'skateboards' },
  { cls: 'surfboard', singular: 'surfboard', plural: 'surfboards' },
  { cls: 'tennis racket', singular: 'tennis racket', plural: 'tennis rackets',
    aliases: ['racket', 'racquet', 'tennis racquet'], pluralAliases: ['rackets', 'racquets', 'tennis racquets'] },
  { cls: 'bottle', singular: 'bottle', plural: 'bottles' },
  { cls: 'wine glass', singular: 'wine glass', plural: 'wine glasses' },
  { cls: 'cup', singular: 'cup', plural: 'cups', aliases: ['mug'], pluralAliases: ['mugs'] },
  { cls: 'fork', singular: 'fork', plural: 'forks' },
  { cls: 'knife', singular: 'knife', plural: 'knives' },
  { cls: 'spoon', singular: 'spoon', plural: 'spoons' },
  { cls: 'bowl', singular: 'bowl', plural: 'bowls' },
  { cls: 'banana', singular: 'banana', plural: 'bananas' },
  { cls: 'apple', singular: 'apple', plural: 'apples' },
  { cls: 'sandwich', singular: 'sandwich', plural: 'sandwiches' },
  { cls: 'orange', singular: 'orange', plural: 'oranges' },
  { cls: 'broccoli', singular: 'broccoli', plural: 'broccoli' },
  { cls: 'carrot', singular: 'carrot', plural: 'carrots' },
  { cls: 'hot dog', singular: 'hot dog', plural: 'hot dogs' },
  { cls: 'pizza', singular: 'pizza', plural: 'pizzas' },
  { cls: 'donut', singular: 'donut', plural: 'donuts', aliases: ['doughnut'], pluralAliases: ['doughnuts'] },
  { cls: 'cake', singular: 'cake', plural: 'cakes' },
  { cls: 'chair', singular: 'chair', plural: 'chairs' },
  { cls: 'couch', singular: 'couch', plural: 'couches', aliases: ['sofa'], pluralAliases: ['sofas'] },
  { cls: 'potted plant', singular: 'potted plant', plural: 'potted plants',
    aliases: ['houseplant', 'plant'], pluralAliases: ['houseplants', 'plants'] },
  { cls: 'bed', singular: 'bed', plural: 'beds' },
  { cls: 'dining table', singular: 'dining table', plural: 'dining tables', aliases: ['table'], pluralAliases: ['tables'] },
  { cls: 'toilet', singular: 'toilet', plural: 'toilets' },
  { cls: 'tv', singular: 'tv', plural: 'tvs', aliases: ['television'], pluralAliases: ['televisions'] },
  { cls: 'laptop', singular: 'laptop', plural: 'laptops' },
  { cls: 'mouse', singular: 'computer mouse', plural: 'computer mice', aliases: ['mouse'], pluralAliases: ['mice'] },
  { cls: 'remote', singular: 'remote', plural: 'remotes',
    aliases: ['tv remote', 'remote control'], pluralAliases: ['tv remotes', 'remote controls'] },
  { cls: 'keyboard', singular: 'keyboard', plural: 'keyboards', aliases: ['computer keyboard'], pluralAliases: ['computer keyboards'] },
  { cls: 'cell phone', singular: 'cell phone', plural: 'cell phones',
    aliases: ['phone', 'mobile phone', 'smartphone'], pluralAliases: ['phones', 'mobile phones', 'smartphones'] },
  { cls: 'microwave', singular: 'microwave', plural: 'microwaves' },
  { cls: 'oven', singular: 'oven', plural: 'ovens' },
  { cls: 'toaster', singular: 'toaster', plural: 'toasters' },
  { cls: 'sink', singular: 'sink', plural: 'sinks' },
  { cls: 'refrigerator', singular: 'refrigerator', plural: 'refrigerators', aliases: ['fridge'], pluralAliases: ['fridges'] },
  { cls: 'book', singular: 'book', plural: 'books' },
  { cls: 'clock', singular: 'clock', plural: 'clocks' },
  { cls: 'vase', singular: 'vase', plural: 'vases' },
  { cls: 'scissors', singular: 'pair of scissors', plural: 'pairs of scissors', aliases: ['scissors'], pluralAliases: ['scissors'] },
  { cls: 'teddy bear', singular: 'teddy bear', plural: 'teddy bears', aliases: ['teddy'], pluralAliases: ['teddies'] },
  { cls: 'hair drier', singular: 'hair drier', plural: 'hair driers',
    aliases: ['hair dryer', 'hairdryer'], pluralAliases: ['hair dryers', 'hairdryers'] },
  { cls: 'toothbrush', singular: 'toothbrush', plural: 'toothbrushes' },
];

const CLASS_BY_NAME = new Map(CLASS_INFO.map((c) => [c.cls, c]));

export function isCocoClass(name: string): boolean {
  return CLASS_BY_NAME.has(name);
}

export function classInfo(cls: string): ClassInfo {
  const info = CLASS_BY_NAME.get(cls);
  if (!info) throw new Error(`${cls} is not one of the 80 COCO classes.`);
  return info;
}

/** "one apple" / "two apples": the word for `count` of a class. */
export function nounFor(cls: string, count: number): string {
  const info = classInfo(cls);
  return count === 1 ? info.singular : info.plural;
}

export interface NounForm {
  cls: string;
  /** true: names several; false: names one; null: the same word for both ("sheep"). */
  plural: boolean | null;
}

/**
 * Every word sequence that names a class, lower case, mapped to the class and its number. Built
 * once: the parser looks nouns up here, longest match first.
 */
export const NOUN_FORMS: ReadonlyMap<string, NounForm> = (() => {
  const forms = new Map<string, NounForm>();
  const add = (word: string, cls: string, plural: boolean): void => {
    const existing = forms.get(word);
    if (existing && existing.cls === cls && existing.plural !== plural) {
      forms.set(word, { cls, plural: null });
    } else if (!existing) {
      forms.set(word, { cls, plural });
    }
  };
  for (const info of CLASS_INFO) {
    add(info.singular, info.cls, false);
    add(info.cls, info.cls, false);
    for (const alias of info.aliases ?? []) add(alias, info.cls, false);
    add(info.plural, info.cls, true);
    for (const alias of info.pluralAliases ?? []) add(alias, info.cls, true);
  }
  return forms;
})();

/** The longest noun form in words, for the parser's longest-match window. */
export const LONGEST_NOUN_WORDS = Math.max(...[...NOUN_FORMS.keys()].map((k) => k.split(' ').length));

/** Everyday words for palette colours; anything else (grey, beige) is not a colour the sim knows. */
export const COLOR_SYNONYMS: Readonly<Record<string, ColorName>> = {
  scarlet: 'red',
  crimson: 'red',
  navy: 'blue',
  azure: 'blue',
  violet: 'purple',
  golden: 'yellow',
  gold: 'yellow',
};

export function isColorName(word: string): word is ColorName {
  return (COLORS as readonly string[]).includes(word);
}

export const NUMBER_WORDS = ['one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten'] as const;

/** The largest count a prompt can ask for; the layout has room for this many of one object. */
export const MAX_COUNT = NUMBER_WORDS.length;

/** "two" and "2" both mean 2. */
export const NUMBER_VALUES: ReadonlyMap<string, number> = new Map([
  ...NUMBER_WORDS.map((word, i) => [word, i + 1] as const),
  ...NUMBER_WORDS.map((_word, i) => [String(i + 1), i + 1] as const),
]);

export function numberWord(count: number): string {
  const word = NUMBER_WORDS[count - 1];
  if (word === undefined) throw new Error(`The sim counts from 1 to ${MAX_COUNT}, not ${count}.`);
  return word;
}
