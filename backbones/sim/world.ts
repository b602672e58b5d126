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
  /** COCO's supercategory; the knowledge table and the renderer may group by it. */
  category: string;
}

/** In COCO order, the same as palette.ts's COCO_CLASSES (a unit test holds them together). */
export const CLASS_INFO: readonly ClassInfo[] = [
  { cls: 'person', singular: 'person', plural: 'people', category: 'person',
    aliases: ['man', 'woman', 'boy', 'girl', 'child', 'kid'],
    pluralAliases: ['persons', 'men', 'women', 'boys', 'girls', 'children', 'kids'] },
  { cls: 'bicycle', singular: 'bicycle', plural: 'bicycles', category: 'vehicle', aliases: ['bike'], pluralAliases: ['bikes'] },
  { cls: 'car', singular: 'car', plural: 'cars', category: 'vehicle', aliases: ['automobile'], pluralAliases: ['automobiles'] },
  { cls: 'motorcycle', singular: 'motorcycle', plural: 'motorcycles', category: 'vehicle', aliases: ['motorbike'], pluralAliases: ['motorbikes'] },
  { cls: 'airplane', singular: 'airplane', plural: 'airplanes', category: 'vehicle',
    aliases: ['aeroplane', 'plane'], pluralAliases: ['aeroplanes', 'planes'] },
  { cls: 'bus', singular: 'bus', plural: 'buses', category: 'vehicle' },
  { cls: 'train', singular: 'train', plural: 'trains', category: 'vehicle' },
  { cls: 'truck', singular: 'truck', plural: 'trucks', category: 'vehicle', aliases: ['lorry'], pluralAliases: ['lorries'] },
  { cls: 'boat', singular: 'boat', plural: 'boats', category: 'vehicle', aliases: ['ship'], pluralAliases: ['ships'] },
  { cls: 'traffic light', singular: 'traffic light', plural: 'traffic lights', category: 'outdoor' },
  { cls: 'fire hydrant', singular: 'fire hydrant', plural: 'fire hydrants', category: 'outdoor', aliases: ['hydrant'], pluralAliases: ['hydrants'] },
  { cls: 'stop sign', singular: 'stop sign', plural: 'stop signs', category: 'outdoor' },
  { cls: 'parking meter', singular: 'parking meter', plural: 'parking meters', category: 'outdoor' },
  { cls: 'bench', singular: 'bench', plural: 'benches', category: 'outdoor' },
  { cls: 'bird', singular: 'bird', plural: 'birds', category: 'animal' },
  { cls: 'cat', singular: 'cat', plural: 'cats', category: 'animal', aliases: ['kitten'], pluralAliases: ['kittens'] },
  { cls: 'dog', singular: 'dog', plural: 'dogs', category: 'animal', aliases: ['puppy'], pluralAliases: ['puppies'] },
  { cls: 'horse', singular: 'horse', plural: 'horses', category: 'animal', aliases: ['pony'], pluralAliases: ['ponies'] },
  { cls: 'sheep', singular: 'sheep', plural: 'sheep', category: 'animal', aliases: ['lamb'], pluralAliases: ['lambs'] },
  { cls: 'cow', singular: 'cow', plural: 'cows', category: 'animal' },
  { cls: 'elephant', singular: 'elephant', plural: 'elephants', category: 'animal' },
  { cls: 'bear', singular: 'bear', plural: 'bears', category: 'animal' },
  { cls: 'zebra', singular: 'zebra', plural: 'zebras', category: 'animal' },
  { cls: 'giraffe', singular: 'giraffe', plural: 'giraffes', category: 'animal' },
  { cls: 'backpack', singular: 'backpack', plural: 'backpacks', category: 'accessory', aliases: ['rucksack'], pluralAliases: ['rucksacks'] },
  { cls: 'umbrella', singular: 'umbrella', plural: 'umbrellas', category: 'accessory' },
  { cls: 'handbag', singular: 'handbag', plural: 'handbags', category: 'accessory', aliases: ['purse'], pluralAliases: ['purses'] },
  { cls: 'tie', singular: 'tie', plural: 'ties', category: 'accessory', aliases: ['necktie'], pluralAliases: ['neckties'] },
  { cls: 'suitcase', singular: 'suitcase', plural: 'suitcases', category: 'accessory' },
  { cls: 'frisbee', singular: 'frisbee', plural: 'frisbees', category: 'sports' },
  { cls: 'skis', singular: 'pair of skis', plural: 'pairs of skis', category: 'sports', aliases: ['ski'], pluralAliases: ['skis'] },
  { cls: 'snowboard', singular: 'snowboard', plural: 'snowboards', category: 'sports' },
  { cls: 'sports ball', singular: 'sports ball', plural: 'sports balls', category: 'sports',
    aliases: ['ball', 'soccer ball', 'football', 'basketball', 'tennis ball'],
    pluralAliases: ['balls', 'soccer balls', 'footballs', 'basketballs', 'tennis balls'] },
  { cls: 'kite', singular: 'kite', plural: 'kites', category: 'sports' },
  { cls: 'baseball bat', singular: 'baseball bat', plural: 'baseball bats', category: 'sports' },
  { cls: 'baseball glove', singular: 'baseball glove', plural: 'baseball gloves', category: 'sports', aliases: ['baseball mitt'], pluralAliases: ['baseball mitts'] },
  { cls: 'skateboard', singular: 'skateboard', plural: 'skateboards', category: 'sports' },
  { cls: 'surfboard', singular: 'surfboard', plural: 'surfboards', category: 'sports' },
  { cls: 'tennis racket', singular: 'tennis racket', plural: 'tennis rackets', category: 'sports',
    aliases: ['racket', 'racquet', 'tennis racquet'], pluralAliases: ['rackets', 'racquets', 'tennis racquets'] },
  { cls: 'bottle', singular: 'bottle', plural: 'bottles', category: 'kitchen' },
  { cls: 'wine glass', singular: 'wine glass', plural: 'wine glasses', category: 'kitchen' },
  { cls: 'cup', singular: 'cup', plural: 'cups', category: 'kitchen', aliases: ['mug'], pluralAliases: ['mugs'] },
  { cls: 'fork', singular: 'fork', plural: 'forks', category: 'kitchen' },
  { cls: 'knife', singular: 'knife', plural: 'knives', category: 'kitchen' },
  { cls: 'spoon', singular: 'spoon', plural: 'spoons', category: 'kitchen' },
  { cls: 'bowl', singular: 'bowl', plural: 'bowls', category: 'kitchen' },
  { cls: 'banana', singular: 'banana', plural: 'bananas', category: 'food' },
  { cls: 'apple', singular: 'apple', plural: 'apples', category: 'food' },
  { cls: 'sandwich', singular: 'sandwich', plural: 'sandwiches', category: 'food' },
  { cls: 'orange', singular: 'orange', plural: 'oranges', category: 'food' },
  { cls: 'broccoli', singular: 'broccoli', plural: 'broccoli', category: 'food' },
  { cls: 'carrot', singular: 'carrot', plural: 'carrots', category: 'food' },
  { cls: 'hot dog', singular: 'hot dog', plural: 'hot dogs', category: 'food' },
  { cls: 'pizza', singular: 'pizza', plural: 'pizzas', category: 'food' },
  { cls: 'donut', singular: 'donut', plural: 'donuts', category: 'food', aliases: ['doughnut'], pluralAliases: ['doughnuts'] },
  { cls: 'cake', singular: 'cake', plural: 'cakes', category: 'food' },
  { cls: 'chair', singular: 'chair', plural: 'chairs', category: 'furniture' },
  { cls: 'couch', singular: 'couch', plural: 'couches', category: 'furniture', aliases: ['sofa'], pluralAliases: ['sofas'] },
  { cls: 'potted plant', singular: 'potted plant', plural: 'potted plants', category: 'furniture',
    aliases: ['houseplant', 'plant'], pluralAliases: ['houseplants', 'plants'] },
  { cls: 'bed', singular: 'bed', plural: 'beds', category: 'furniture' },
  { cls: 'dining table', singular: 'dining table', plural: 'dining tables', category: 'furniture', aliases: ['table'], pluralAliases: ['tables'] },
  { cls: 'toilet', singular: 'toilet', plural: 'toilets', category: 'furniture' },
  { cls: 'tv', singular: 'tv', plural: 'tvs', category: 'electronic', aliases: ['television'], pluralAliases: ['televisions'] },
  { cls: 'laptop', singular: 'laptop', plural: 'laptops', category: 'electronic' },
  { cls: 'mouse', singular: 'computer mouse', plural: 'computer mice', category: 'electronic', aliases: ['mouse'], pluralAliases: ['mice'] },
  { cls: 'remote', singular: 'remote', plural: 'remotes', category: 'electronic',
    aliases: ['tv remote', 'remote control'], pluralAliases: ['tv remotes', 'remote controls'] },
  { cls: 'keyboard', singular: 'keyboard', plural: 'keyboards', category: 'electronic', aliases: ['computer keyboard'], pluralAliases: ['computer keyboards'] },
  { cls: 'cell phone', singular: 'cell phone', plural: 'cell phones', category: 'electronic',
    aliases: ['phone', 'mobile phone', 'smartphone'], pluralAliases: ['phones', 'mobile phones', 'smartphones'] },
  { cls: 'microwave', singular: 'microwave', plural: 'microwaves', category: 'appliance' },
  { cls: 'oven', singular: 'oven', plural: 'ovens', category: 'appliance' },
  { cls: 'toaster', singular: 'toaster', plural: 'toasters', category: 'appliance' },
  { cls: 'sink', singular: 'sink', plural: 'sinks', category: 'appliance' },
  { cls: 'refrigerator', singular: 'refrigerator', plural: 'refrigerators', category: 'appliance', aliases: ['fridge'], pluralAliases: ['fridges'] },
  { cls: 'book', singular: 'book', plural: 'books', category: 'indoor' },
  { cls: 'clock', singular: 'clock', plural: 'clocks', category: 'indoor' },
  { cls: 'vase', singular: 'vase', plural: 'vases', category: 'indoor' },
  { cls: 'scissors', singular: 'pair of scissors', plural: 'pairs of scissors', category: 'indoor', aliases: ['scissors'], pluralAliases: ['scissors'] },
  { cls: 'teddy bear', singular: 'teddy bear', plural: 'teddy bears', category: 'indoor', aliases: ['teddy'], pluralAliases: ['teddies'] },
  { cls: 'hair drier', singular: 'hair drier', plural: 'hair driers', category: 'indoor',
    aliases: ['hair dryer', 'hairdryer'], pluralAliases: ['hair dryers', 'hairdryers'] },
  { cls: 'toothbrush', singular: 'toothbrush', plural: 'toothbrushes', category: 'indoor' },
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
