import { type Logger, NOOP_LOGGER } from '../../core/foundation/logger.js';

/** Console publisher lines shown before the rest are hidden. */
const SHOWN_CONSOLE_LINES = 4;

/**
 * What the demo prints: lines, a live progress line (redrawn in place on a terminal, one
 * line a second otherwise), and nothing at all in `--json` mode but the summary.
 *
 * @example
 * const screen = new DemoScreen(process.stdout, false);
 * screen.say('Starting...');
 */
export class DemoScreen {
  readonly #out: NodeJS.WritableStream;
  readonly #json: boolean;
  readonly #tty: boolean;

  constructor(out: NodeJS.WriteStream, json: boolean) {
    this.#out = out;
    this.#json = json;
    this.#tty = out.isTTY === true && !json;
  }

  /** Prints one line (over the progress line on a terminal). */
  say(line: string): void {
    if (!this.#json) this.#out.write(`${this.#tty ? '\r\x1b[2K' : ''}${line}\n`);
  }

  /** Prints `value` as one JSON line (the `--json` summary). */
  json(value: unknown): void {
    this.#out.write(`${JSON.stringify(value)}\n`);
  }

  /** Shows `progress()` until the returned function is called. */
  showProgress(progress: () => string): () => void {
    if (this.#json) return () => undefined;
    const ticker = setInterval(
      () => this.#out.write(this.#tty ? `\r\x1b[2K${progress()}` : `${progress()}\n`),
      this.#tty ? 100 : 1000,
    );
    ticker.unref();
    return () => {
      clearInterval(ticker);
      if (this.#tty) this.#out.write('\r\x1b[2K');
    };
  }

  /**
   * A logger for the console publisher: its first lines show what a delivery looks like,
   * the rest would flood the screen.
   */
  consolePublisherLogger(): Logger {
    let lines = 0;
    const logger: Logger = {
      ...NOOP_LOGGER,
      info: (obj: object) => {
        lines++;
        if (lines <= SHOWN_CONSOLE_LINES) {
          const o = obj as { type?: string; destination?: string; payload?: unknown; attempt?: number };
          this.say(
            `  console ▸ ${o.type} → ${o.destination} (attempt ${o.attempt}) ${JSON.stringify(o.payload)}`,
          );
        } else if (lines === SHOWN_CONSOLE_LINES + 1)
          this.say('  console ▸ ... (further console lines hidden)');
      },
      child: () => logger,
    };
    return logger;
  }
}
