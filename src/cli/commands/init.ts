import { UserError, errorDiagnostic } from '../../core/diagnostic.js';

export async function run(_opts: Record<string, unknown>, _args: readonly string[]): Promise<number> {
  throw new UserError(errorDiagnostic('not-implemented', 'vidbuild init: not implemented yet'));
}
