/** The environment a deployed function receives (names from core/app/declaration.ts). */
export const AWS_TEST_ENV = {
  AWS_REGION: 'us-east-1',
  // Static credentials: nothing may go looking for real ones (no network in unit tests).
  AWS_ACCESS_KEY_ID: 'AKIDUNITTEST',
  AWS_SECRET_ACCESS_KEY: 'unit-test-secret',
  FILES_BUCKET: 'test-files-bucket',
  FILES_TABLE: 'test-files',
  BATCHES_TABLE: 'test-batches',
  CHUNKS_TABLE: 'test-chunks',
  API_KEYS_TABLE: 'test-api-keys',
  SCHEDULING_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/000000000000/test-scheduling',
  FINALIZING_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/000000000000/test-finalizing',
  SPOT_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/000000000000/test-spot',
  DEDICATED_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/000000000000/test-dedicated',
} as const;

/** Sets the deployment environment; call before the first import of a handler. */
export function setAwsTestEnv(extra: Record<string, string> = {}): void {
  delete process.env.AWS_ENDPOINT_URL;
  delete process.env.AWS_PROFILE;
  Object.assign(process.env, AWS_TEST_ENV, extra);
}
