// The sim's world model: what a prompt asks for (a Scene) and what an image shows (placed
// instances). The text side (language, knowledge, errors) produces Scenes; the pixel side
// (layout, render, vision) turns them into PNGs and reads PNGs back.

export const COLORS = ['red', 'orange', 'yellow', 'green', 'blue', 'purple', 'pink', 'brown', 'black', 'white'] as const;
export type ColorName = (typeof COLORS)[number];

export const RELATIONS = ['left of', 'right of', 'above', 'below', 'next to'] as const;
export type Relation = (typeof RELATIONS)[number];

/** A group of identical objects the prompt asks for: "two red apples". */
export interface SceneObject {
  /** One of the 80 COCO class names, singular ("apple", "traffic light"). */
  cls: string;
  count: number;
  /** Absent when the prompt leaves the colour open. */
  color?: ColorName;
}

/** "objects[subject] is <relation> objects[object]". */
export interface SceneRelation {
  subject: number;
  relation: Relation;
  object: number;
}

export interface Scene {
  objects: SceneObject[];
  relations: SceneRelation[];
}

/** One drawn object with its box in pixels: what an image shows. */
export interface Instance {
  cls: string;
  color: ColorName;
  x: number;
  y: number;
  w: number;
  h: number;
}
