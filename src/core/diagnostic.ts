import { escapeControls } from './terminal-text.js';
/**
 * A user-facing problem: a stable code, a message in the user's terms, and
 * (when there is one) the place in a file it is about.
 *
 * Diagnostics are values that flow from the loaders and the planner to the
 * CLI, which is the only place that prints them.
 */
export interface SourceLocation {
  /** Path as the user should see it (relative to cwd when possible). */
  readonly file: string;
  /** 1-based line. */
  readonly line: number;
  /** 1-based column. */
  readonly col: number;
}

export type Severity = 'error' | 'warning';

export interface Diagnostic {
  /** Stable, machine-readable code, e.g. `unknown-key`, `cycle`, `lock-corrupt`. */
  readonly code: string;
  readonly severity: Severity;
  /** One line, no trailing period needed; may include a hint (`did you mean ...?`). */
  readonly message: string;
  readonly location?: SourceLocation;
}

/** `file:line:col: message` (or `file: message`, or just the message). */
export function formatDiagnostic(d: Diagnostic): string {
  const prefix = d.severity === 'warning' ? 'warning: ' : '';
  // Messages quote values from the manifest, the lockfile and providers: one diagnostic, one line.
  const message = escapeControls(d.message);
  if (d.location === undefined) return `${prefix}${message}`;
  const { file, line, col } = d.location;
  return `${escapeControls(file)}:${line}:${col}: ${prefix}${message}`;
}

export function errorDiagnostic(
  code: string,
  message: string,
  location?: SourceLocation,
): Diagnostic {
  return location === undefined
    ? { code, severity: 'error', message }
    : { code, severity: 'error', message, location };
}

export function warningDiagnostic(code: string, message: string): Diagnostic {
  return { code, severity: 'warning', message };
}

/**
 * An expected failure that must travel up through code that cannot return a
 * Result (e.g. a callback). The CLI prints it as one line, never a stack.
 */
export class UserError extends Error {
  readonly diagnostics: readonly Diagnostic[];
  readonly exitCode: number;
  constructor(diagnostics: readonly Diagnostic[] | Diagnostic, exitCode = 1) {
    const list = Array.isArray(diagnostics) ? diagnostics : [diagnostics as Diagnostic];
    super(list.map(formatDiagnostic).join('\n'));
    this.name = 'UserError';
    this.diagnostics = list;
    this.exitCode = exitCode;
  }
}

/** The list without repeats: the same message at the same place is said once. */
export function distinctDiagnostics(list: readonly Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return list.filter((d) => {
    const key = `${d.location?.line}:${d.location?.col}:${d.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
