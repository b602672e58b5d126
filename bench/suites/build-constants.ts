// Constants the suite builder and the benchmarks share (build.ts runs as a script, so it is not imported).
import { DEFAULT_IMAGE_SIZE } from '../../workflows/types';

/** Image side the suites' sources are drawn at and the benchmarks run at (the agent's default). */
export const SUITE_IMAGE_SIZE = DEFAULT_IMAGE_SIZE;
