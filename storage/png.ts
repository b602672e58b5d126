// Reads what the BlobStore records about a PNG (its size) from the header, without decoding it.
import { InvalidImage } from './errors';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** Signature, IHDR length and type, width, height: the smallest prefix that holds the size. */
const HEADER_BYTES = 24;

export interface PngSize {
  width: number;
  height: number;
}

export function readPngSize(png: Buffer): PngSize {
  if (png.length < SIGNATURE.length || !png.subarray(0, SIGNATURE.length).equals(SIGNATURE)) {
    throw new InvalidImage(`Expected a PNG image, but the ${png.length} bytes given do not start with the PNG signature.`);
  }
  if (png.length < HEADER_BYTES || png.toString('latin1', 12, 16) !== 'IHDR') {
    throw new InvalidImage('The PNG image is truncated or damaged: its first chunk is not a complete IHDR header.');
  }
  const width = png.readUInt32BE(16);
  const height = png.readUInt32BE(20);
  if (width === 0 || height === 0) {
    throw new InvalidImage(`The PNG image has an invalid size of ${width}x${height}.`);
  }
  return { width, height };
}
