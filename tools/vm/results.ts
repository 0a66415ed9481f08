/**
 * Reads what the guest printed on its serial console: the markers tools/vm/init.sh prints
 * around the `deno` run, and the summary line of `deno test` between them.
 *
 * @module
 */

/** What became of a guest run. */
export interface GuestResult {
  /** The guest printed the end marker: the run finished and `exit` is its status. */
  finished: boolean;
  /** The exit status of `deno` in the guest (null when it did not finish). */
  exit: number | null;
  /** Why the guest could not get as far as the tests, when its /init said so. */
  setupError?: string;
  /** The counts of `deno test`'s summary line, when the run printed one. */
  summary?: { ok: boolean; passed: number; failed: number; ignored: number };
  /** Guest uptime (seconds) when the tests began and ended, as the guest printed them. */
  beganAt?: number;
  /** See {@linkcode GuestResult.beganAt}. */
  endedAt?: number;
}

const BEGIN = /^@@cell-vm: begin at ([\d.]+)s: .*@@$/m;
const END = /^@@cell-vm: end at ([\d.]+)s: exit (\d+)@@$/m;
const SETUP = /^@@cell-vm: setup failed: (.*)@@$/m;
const SUMMARY = /^(ok|FAILED) \| (\d+) passed(?: \([^)]*\))? \| (\d+) failed(?: \([^)]*\))?(.*)$/gm;

/**
 * Removes terminal escape sequences from serial output, and carriage returns the way a
 * terminal does: of a line rewritten after a `\r`, only the last version is kept.
 */
export function plain(text: string): string {
  // deno-lint-ignore no-control-regex
  const stripped = text.replace(/\x1b\[[0-9;?]*[A-Za-z]|\x1b[c()][0-9A-Za-z]?/g, "");
  return stripped.split("\n").map((line) => {
    const end = line.endsWith("\r") ? line.slice(0, -1) : line;
    return end.slice(end.lastIndexOf("\r") + 1);
  }).join("\n");
}

/**
 * Parses the console output of a guest run (escape sequences and carriage returns may
 * still be in it).
 *
 * @example
 * ```ts ignore
 * const result = parseGuestOutput(serialText);
 * if (result.finished && result.exit === 0) console.log("passed");
 * ```
 */
export function parseGuestOutput(output: string): GuestResult {
  const text = plain(output);
  const result: GuestResult = { finished: false, exit: null };
  const setup = text.match(SETUP);
  if (setup) result.setupError = setup[1];
  const begin = BEGIN.exec(text);
  if (!begin) return result;
  result.beganAt = Number(begin[1]);
  const rest = text.slice(begin.index + begin[0].length);
  const end = END.exec(rest);
  const body = end ? rest.slice(0, end.index) : rest;
  if (end) {
    result.finished = true;
    result.endedAt = Number(end[1]);
    result.exit = Number(end[2]);
  }
  for (const m of body.matchAll(SUMMARY)) {
    const ignored = m[4].match(/(\d+) ignored/);
    result.summary = {
      ok: m[1] === "ok",
      passed: Number(m[2]),
      failed: Number(m[3]),
      ignored: ignored ? Number(ignored[1]) : 0,
    };
  }
  return result;
}

/** Whether the guest run passed: it finished with status 0 and a summary with no failure. */
export function passed(result: GuestResult): boolean {
  return result.finished && result.exit === 0 && result.summary !== undefined &&
    result.summary.ok && result.summary.failed === 0;
}
