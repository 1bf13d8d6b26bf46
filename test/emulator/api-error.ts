import { APIError } from 'openai';

/** The SDK's error from a call that must fail (a test of a refusal); any other outcome fails the test. */
export async function apiError(p: Promise<unknown>): Promise<APIError> {
  try {
    await p;
  } catch (e: unknown) {
    if (e instanceof APIError) return e;
    throw e;
  }
  throw new Error('expected the call to fail');
}
