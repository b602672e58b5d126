// What global-setup.ts started, for the tests: each getter fails with a sentence when it is unset.

function required(name: string, what: string): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set: ${what} comes from test/setup/global-setup.ts, so run this test through jest (npx jest or npm test).`);
  }
  return value;
}

/** host:port of the in-memory Temporal dev server shared by the run. */
export function testTemporalAddress(): string {
  return required('IMAGENT_TEST_TEMPORAL_ADDRESS', 'the Temporal dev server');
}

/** http://127.0.0.1:PORT of the moto S3 server shared by the run. */
export function testS3Endpoint(): string {
  return required('IMAGENT_TEST_S3_ENDPOINT', 'the S3 server');
}

/** Path of the workflow bundle built once for the run (pass as `workflowBundle: { codePath }`). */
export function workflowBundlePath(): string {
  return required('IMAGENT_TEST_WORKFLOW_BUNDLE', 'the workflow bundle');
}
