/**
 * Lines of a child's stdout, read with a bound on every wait: a process the child left
 * behind may hold the pipe open, so its end may never come.
 *
 * @module
 */

/** Reads a byte stream line by line. */
export class LineReader {
  #reader: ReadableStreamDefaultReader<Uint8Array>;
  #decoder = new TextDecoder();
  #buffer = "";
  #pending: Promise<ReadableStreamReadResult<Uint8Array>> | undefined;
  #ended = false;
  #lines: string[] = [];

  /** Reads `stream` (which it locks). */
  constructor(stream: ReadableStream<Uint8Array>) {
    this.#reader = stream.getReader();
  }

  /** The next line, or null at the end of the stream or after `timeoutMs`. */
  async next(timeoutMs: number): Promise<string | null> {
    const deadline = performance.now() + timeoutMs;
    while (true) {
      const newline = this.#buffer.indexOf("\n");
      if (newline >= 0) {
        const line = this.#buffer.slice(0, newline);
        this.#buffer = this.#buffer.slice(newline + 1);
        return line;
      }
      const left = deadline - performance.now();
      if (this.#ended || left <= 0) return null;
      this.#pending ??= this.#reader.read();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<"timeout">((r) => timer = setTimeout(() => r("timeout"), left));
      const result = await Promise.race([this.#pending, timeout]);
      clearTimeout(timer);
      if (result === "timeout") return null;
      this.#pending = undefined;
      if (result.done) this.#ended = true;
      else this.#buffer += this.#decoder.decode(result.value, { stream: true });
    }
  }

  /** Reads lines until one `matches` (returned, and remembered) or null after `timeoutMs`. */
  async waitFor(matches: (line: string) => boolean, timeoutMs: number): Promise<string | null> {
    const deadline = performance.now() + timeoutMs;
    while (true) {
      const line = await this.next(Math.max(0, deadline - performance.now()));
      if (line === null) return null;
      this.#lines.push(line);
      if (matches(line)) return line;
    }
  }

  /** A line read by {@linkcode LineReader.waitFor} before that `matches`. */
  seen(matches: (line: string) => boolean): string | undefined {
    return this.#lines.find(matches);
  }

  /** Stops reading (the stream is cancelled, so a pipe held open elsewhere is let go). */
  async close(): Promise<void> {
    await this.#reader.cancel().catch(() => {});
  }
}
