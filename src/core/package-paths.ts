import { fileURLToPath } from 'node:url';
import path from 'node:path';

/**
 * The installed package's root (where `data/`, `schemas/` and `bin/` live),
 * found from this module's location in either `src/core` or `dist/core`.
 */
export const packageRoot: string = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
);

export function packagePath(...segments: string[]): string {
  return path.join(packageRoot, ...segments);
}
