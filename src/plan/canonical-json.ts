/**
 * JSON with object keys sorted at every level and no whitespace: the same
 * value always gives the same text, whatever order its keys were built in.
 * Used for fingerprints (and, with indentation, for the lockfile).
 */
export type JsonValue = null | boolean | number | string | readonly JsonValue[] | { readonly [key: string]: JsonValue | undefined };

export function canonicalJson(value: JsonValue): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const parts: string[] = [];
  for (const key of Object.keys(value).sort()) {
    const v = value[key];
    // Absent and undefined are the same thing: neither changes the hash.
    if (v === undefined) continue;
    parts.push(`${JSON.stringify(key)}:${canonicalJson(v)}`);
  }
  return `{${parts.join(',')}}`;
}

function isArray(v: JsonValue): v is readonly JsonValue[] {
  return Array.isArray(v);
}
