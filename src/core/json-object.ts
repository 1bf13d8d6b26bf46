/**
 * The JSON object in `raw`, or undefined when it is not valid JSON or not an
 * object. For the files vidbuild keeps for itself (run lock, cache index,
 * hash cache): a damaged one is treated as absent, never as an error.
 */
export function parseJsonObject(raw: string): object | undefined {
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    return undefined;
  }
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? v : undefined;
}
