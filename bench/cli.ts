/**
 * The CLIs timed as engines call them: `<runtime> --root S run --bundle B ID` for a whole
 * container, and `<runtime> --root S exec ID true` into a running one. cell is timed in
 * the forms `deno task install` writes: the front door (`bin/cell`) served by a resident
 * planner, and the in-process script (`lib/cell/cell-deno`, the bundled CLI with a warm code
 * cache); and as `deno run cli.ts`.
 *
 * @module
 */

import { join } from "node:path";

const CLI = new URL("../cli.ts", import.meta.url).pathname;
const INSTALL = new URL("../tools/install.ts", import.meta.url).pathname;

/** The command line that runs cell's CLI from source: `deno run cli.ts`, no bundle. */
export function cellCommand(): string[] {
  return [
    "env",
    "DENO_NO_UPDATE_CHECK=1",
    Deno.execPath(),
    "run",
    "-A",
    "--no-lock",
    "--no-config",
    "--no-npm",
    "--no-remote",
    CLI,
  ];
}

/** The two installed forms of cell: the front door and the in-process script. */
export interface InstalledCell {
  /** `bin/cell`, what engines call: served by the resident planner once one runs. */
  door: string[];
  /** `lib/cell/cell-deno`: the bundled CLI, no planner (the door's fallback). */
  inProcess: string[];
}

/**
 * Installs cell as `deno task install --prefix <prefix>` does (bundle, scripts, door, warm
 * code cache) and returns the command lines of its two forms.
 */
export async function installCell(prefix: string): Promise<InstalledCell> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", INSTALL, "--prefix", prefix],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(
      `deno task install --prefix ${prefix}: ${new TextDecoder().decode(out.stderr)}`,
    );
  }
  return { door: [join(prefix, "bin/cell")], inProcess: [join(prefix, "lib/cell/cell-deno")] };
}

/**
 * Has the door start its planner on `stateRoot` and waits (bounded) until a call is served
 * by it, so the door's times are the planner's.
 * @throws Error when no planner serves within 10 s.
 */
export async function startPlanner(door: string[], stateRoot: string): Promise<void> {
  const log = join(stateRoot, "..", `${stateRoot.split("/").at(-1)}-planner.log`);
  for (let tries = 0; tries < 100; tries++) {
    await run([...door, "--root", stateRoot, "--debug", "--log", log, "list"], "cell list");
    if (Deno.readTextFileSync(log).includes("(planner ")) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no planner served ${stateRoot} within 10 s (log: ${log})`);
}

/** Runs and times a command; `detached` (run -d): the container keeps stderr, so no pipe. */
async function run(argv: string[], what: string, detached = false): Promise<number> {
  const start = performance.now();
  const out = await new Deno.Command(argv[0], {
    args: argv.slice(1),
    stdin: "null",
    stdout: "null",
    stderr: detached ? "null" : "piped",
  }).output();
  const elapsed = performance.now() - start;
  if (out.code !== 0) {
    throw new Error(`${what} exited with ${out.code}: ${new TextDecoder().decode(out.stderr)}`);
  }
  return elapsed;
}

/**
 * `deno run` of an empty file, with the flags the in-process script passes: what any Deno
 * entry point costs before its first line, the floor under the in-process path.
 */
export function timeEmptyDeno(dir: string): Promise<number> {
  const file = join(dir, "empty.js");
  Deno.writeTextFileSync(file, "");
  return run([
    Deno.execPath(),
    "run",
    "--allow-all",
    "--no-lock",
    "--no-config",
    "--no-npm",
    "--no-remote",
    file,
  ], "deno run (empty file)");
}

/** One `run` of the bundle (the container runs `true` and is removed). */
export function timeRun(
  cmd: string[],
  stateRoot: string,
  bundleDir: string,
  id: string,
): Promise<number> {
  return run([...cmd, "--root", stateRoot, "run", "--bundle", bundleDir, id], `${cmd[0]} run`);
}

/** What {@linkcode timeExecs} measured on one running container. */
export interface RunningTimes {
  /** `exec ID true`, each. */
  exec: number[];
  /** `state ID`, each. */
  state: number[];
}

/**
 * `runs` execs of `true` into one detached container of the bundle (which must sleep), then
 * `runs` reads of its state (`state ID`, what engines ask after every call).
 */
export async function timeExecs(
  cmd: string[],
  stateRoot: string,
  bundleDir: string,
  id: string,
  runs: number,
): Promise<RunningTimes> {
  await run([...cmd, "--root", stateRoot, "run", "-d", "--bundle", bundleDir, id], "run -d", true);
  try {
    const times: RunningTimes = { exec: [], state: [] };
    for (let i = 0; i < runs; i++) {
      times.exec.push(
        await run([...cmd, "--root", stateRoot, "exec", id, "true"], `${cmd[0]} exec`),
      );
    }
    for (let i = 0; i < runs; i++) {
      times.state.push(await run([...cmd, "--root", stateRoot, "state", id], `${cmd[0]} state`));
    }
    return times;
  } finally {
    await run([...cmd, "--root", stateRoot, "delete", "--force", id], "delete");
  }
}
