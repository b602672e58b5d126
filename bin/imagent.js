#!/usr/bin/env node
// Runs the TypeScript CLI directly (tsx compiles on the fly), so a clone needs no build step.
require('tsx/cjs');
require('../cli/main.ts')
  .main(process.argv)
  .catch((err) => {
    process.stderr.write(`imagent: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
