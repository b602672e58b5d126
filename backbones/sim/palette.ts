// The sim's fixed vocabulary of things and colours, and every RGB value it draws with. The single
// source for both sides: the text side names classes and colours, the pixel side draws and reads
// them, and vision can only tell colours apart because they are all defined here, far apart.
import type { ColorName } from './scene';

export type Rgb = readonly [number, number, number];

/**
 * Object colours. Every pair differs by more than 80 in at least one channel (and so do the
 * background and marker inks below), so a pixel's nearest reference colour is unambiguous even
 * after mild recompression or retouching.
 */
export const COLOR_RGB: Record<ColorName, [number, number, number]> = {
  red: [220, 30, 30],
  orange: [255, 140, 0],
  yellow: [250, 225, 20],
  green: [30, 160, 50],
  blue: [30, 70, 220],
  purple: [130, 40, 170],
  pink: [255, 130, 190],
  brown: [130, 80, 30],
  black: [0, 0, 0],
  white: [255, 255, 255],
};

/** Neutral grey: no object colour is near it, so an object never blends into the canvas. */
export const BACKGROUND_RGB: Rgb = [170, 170, 166];

/**
 * The two inks of the class markers and the sim signature. Cyan hues are deliberately absent from
 * COLOR_RGB, so marker cells stay distinct from whatever object colour surrounds them.
 */
export const MARKER_ON_RGB: Rgb = [0, 255, 255];
export const MARKER_OFF_RGB: Rgb = [0, 70, 100];

/** The 80 COCO object classes in the dataset's standard order; a class's index is its marker code. */
export const COCO_CLASSES: readonly string[] = [
  'person',
  'bicycle',
  'car',
  'motorcycle',
  'airplane',
  'bus',
  'train',
  'truck',
  'boat',
  'traffic light',
  'fire hydrant',
  'stop sign',
  'parking meter',
  'bench',
  'bird',
  'cat',
  'dog',
  'horse',
  'sheep',
  'cow',
  'elephant',
  'bear',
  'zebra',
  'giraffe',
  'backpack',
  'umbrella',
  'handbag',
  'tie',
  'suitcase',
  'frisbee',
  'skis',
  'snowboard',
  'sports ball',
  'kite',
  'baseball bat',
  'baseball glove',
  'skateboard',
  'surfboard',
  'tennis racket',
  'bottle',
  'wine glass',
  'cup',
  'fork',
  'knife',
  'spoon',
  'bowl',
  'banana',
  'apple',
  'sandwich',
  'orange',
  'broccoli',
  'carrot',
  'hot dog',
  'pizza',
  'donut',
  'cake',
  'chair',
  'couch',
  'potted plant',
  'bed',
  'dining table',
  'toilet',
  'tv',
  'laptop',
  'mouse',
  'remote',
  'keyboard',
  'cell phone',
  'microwave',
  'oven',
  'toaster',
  'sink',
  'refrigerator',
  'book',
  'clock',
  'vase',
  'scissors',
  'teddy bear',
  'hair drier',
  'toothbrush',
];
