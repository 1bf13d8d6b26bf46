/**
 * Ends every exhaustive switch: adding a new variant without handling it
 * becomes a compile error instead of a silent fall-through.
 */
export function unreachable(value: never, what = 'value'): never {
  throw new Error(`unreachable: unexpected ${what} ${JSON.stringify(value)}`);
}
