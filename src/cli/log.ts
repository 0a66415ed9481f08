/**
 * The CLI's log: `--log FILE` (default stderr) in `--log-format text|json`. Engines read
 * it: conmon and containerd's shim take the last `error` line of the JSON log as the
 * failure message, so each line is one JSON object with `level`, `msg` and `time`.
 *
 * @module
 */

/** A log level. */
export type Level = "debug" | "info" | "warning" | "error";

/** Where and how to log. */
export interface LogOptions {
  /** A file to append to; stderr when absent. */
  file?: string;
  /** "text" (default) or "json". */
  format?: "text" | "json";
  /** Also write debug lines. */
  debug?: boolean;
  /** Writes a line to the call's stderr (default: this process's). */
  stderr?: (line: string) => void;
}

/** Writes log lines. */
export class Logger {
  #options: LogOptions;

  /** A logger with these options. */
  constructor(options: LogOptions = {}) {
    this.#options = options;
  }

  /** One line at `level`; debug lines only with `--debug`. */
  log(level: Level, msg: string): void {
    if (level === "debug" && !this.#options.debug) return;
    const time = new Date().toISOString();
    const line = this.#options.format === "json"
      ? JSON.stringify({ level, msg, time })
      : `time="${time}" level=${level} msg=${JSON.stringify(msg)}`;
    if (this.#options.file) {
      try {
        const data = new TextEncoder().encode(line + "\n");
        Deno.writeFileSync(this.#options.file, data, { append: true, create: true });
        return;
      } catch {
        // fall back to stderr
      }
    }
    if (this.#options.stderr) this.#options.stderr(line);
    else console.error(line);
  }

  /** Whether lines go to a file (then errors are also shown on stderr plainly). */
  get toFile(): boolean {
    return this.#options.file !== undefined;
  }
}
