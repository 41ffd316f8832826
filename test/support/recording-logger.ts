import type { Logger } from '../../src/core/foundation/logger.js';

/** One line a `RecordingLogger` received. */
export interface LoggedLine {
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly fields: Record<string, unknown>;
  readonly msg: string;
}

/**
 * A `Logger` that keeps every line (children share the parent's list and add their bindings),
 * so a test can assert what an operator would read at a given level.
 *
 * @example
 * const log = new RecordingLogger(); createRelay({ db, publishers, logger: log });
 * expect(log.at('warn').map((l) => l.msg)).toEqual([...]);
 */
export class RecordingLogger implements Logger {
  constructor(
    readonly lines: LoggedLine[] = [],
    private readonly bindings: Record<string, unknown> = {},
  ) {}

  /** Lines at `level` or above. */
  at(level: LoggedLine['level']): LoggedLine[] {
    const order = ['debug', 'info', 'warn', 'error'];
    return this.lines.filter((l) => order.indexOf(l.level) >= order.indexOf(level));
  }

  debug(obj: object, msg = ''): void {
    this.lines.push({ level: 'debug', fields: { ...this.bindings, ...obj }, msg });
  }
  info(obj: object, msg = ''): void {
    this.lines.push({ level: 'info', fields: { ...this.bindings, ...obj }, msg });
  }
  warn(obj: object, msg = ''): void {
    this.lines.push({ level: 'warn', fields: { ...this.bindings, ...obj }, msg });
  }
  error(obj: object, msg = ''): void {
    this.lines.push({ level: 'error', fields: { ...this.bindings, ...obj }, msg });
  }
  child(bindings: Record<string, unknown>): Logger {
    return new RecordingLogger(this.lines, { ...this.bindings, ...bindings });
  }
}
