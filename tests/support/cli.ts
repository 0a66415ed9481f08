/**
 * Runs `cli.ts` as a separate process, as an engine would, and makes bundles for it.
 *
 * @module
 */

import { defaultConfig, type Spec } from "../../mod.ts";
import { rootfs } from "./fixture.ts";

/** The CLI entry point. */
export const CLI = new URL("../../cli.ts", import.meta.url).pathname;

/**
 * Which path the CLI tests take: "in-process" (`deno run cli.ts`, the default) or "door"
 * (`CELL_TEST_PATH=door`: the front door installed in `CELL_TEST_PREFIX`, served by a
 * resident planner; `deno task test` runs the CLI's tests both ways).
 */
export const CLI_PATH: "door" | "in-process" = Deno.env.get("CELL_TEST_PATH") === "door"
  ? "door"
  : "in-process";

/** The installed front door of the door path. */
export function doorPath(): string {
  const prefix = Deno.env.get("CELL_TEST_PREFIX");
  if (!prefix) throw new Error("CELL_TEST_PATH=door needs CELL_TEST_PREFIX (an install prefix)");
  return `${prefix}/bin/cell`;
}

/**
 * The `cell` an engine calls from an install in `prefix`: the front door on the door path,
 * the script that runs the bundled CLI in-process (`lib/cell/cell-deno`) on the other.
 */
export function installedCell(prefix: string): string {
  return CLI_PATH === "door" ? `${prefix}/bin/cell` : `${prefix}/lib/cell/cell-deno`;
}

/** The argv that runs the CLI on a state root, as an engine's runtime path would. */
export function cellArgv(root: string): string[] {
  if (CLI_PATH === "door") return [doorPath(), "--root", root];
  return [Deno.execPath(), "run", "-A", "--no-lock", CLI, "--root", root];
}

/** What one CLI call printed and returned. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `cell --root <root> args...`; stdin is empty unless given. With `detached`
 * (create, run -d, exec -d) stdout and stderr go to /dev/null: the container's processes
 * inherit them, as from runc, and a pipe would stay open as long as they run. A call that
 * has not ended after `timeoutMs` (default 60 s) is killed, so a hang fails the test.
 */
export async function cell(
  root: string,
  args: string[],
  options: {
    stdin?: string;
    env?: Record<string, string>;
    detached?: boolean;
    timeoutMs?: number;
  } = {},
): Promise<CliResult> {
  const output = options.detached ? "null" : "piped";
  const [program, ...prefix] = cellArgv(root);
  const child = new Deno.Command(program, {
    args: [...prefix, ...args],
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: output,
    stderr: output,
    env: options.env,
    signal: AbortSignal.timeout(options.timeoutMs ?? 60_000),
  }).spawn();
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(options.stdin));
    await writer.close();
  }
  if (options.detached) return { code: (await child.status).code, stdout: "", stderr: "" };
  const out = await child.output();
  const text = new TextDecoder();
  return { code: out.code, stdout: text.decode(out.stdout), stderr: text.decode(out.stderr) };
}

/** A bundle directory whose config.json is the runc-like default on the busybox rootfs. */
export async function bundle(args: string[], edit?: (spec: Spec) => void): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "cell-bundle-" });
  scratch(dir);
  const spec = defaultConfig({ rootfs: await rootfs(), args });
  edit?.(spec);
  await Deno.writeTextFile(`${dir}/config.json`, JSON.stringify(spec));
  return dir;
}

const roots: string[] = [];
const scratchDirs: string[] = [];

/** Removes `dir` when the test process ends (after its containers are deleted). */
function scratch(dir: string): void {
  scratchDirs.push(dir);
}

// When the test process ends: the containers left in the state roots first, then the dirs.
globalThis.addEventListener("unload", () => {
  deleteLeftovers();
  for (const dir of scratchDirs) {
    try {
      Deno.removeSync(dir, { recursive: true });
    } catch { /* gone, or something is still mounted in it */ }
  }
});

/**
 * A fresh state root for CLI tests; every container left in it is force-deleted (through
 * the CLI) when the test process ends.
 */
export async function stateRoot(): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "cell-cli-state-" });
  roots.push(root);
  scratch(root);
  return root;
}

function deleteLeftovers(): void {
  for (const root of roots) {
    for (const entry of Deno.readDirSync(root)) {
      if (!entry.isDirectory) continue;
      const [program, ...prefix] = cellArgv(root);
      new Deno.Command(program, {
        args: [...prefix, "delete", "--force", entry.name],
        stdout: "null",
        stderr: "null",
      }).outputSync();
    }
  }
}

/** An empty directory, removed when the test process ends. */
export async function emptyDir(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "cell-cli-dir-" });
  scratch(dir);
  return dir;
}

/** A container id unique to this test process (cgroups are shared between state roots). */
export function uid(name: string): string {
  return `${name}-${Deno.pid}`;
}

const INSTALL_SCRIPT = new URL("../../tools/install.ts", import.meta.url).pathname;

/** Installs into a fresh prefix (removed when the tests end); the prefix. */
export async function installPrefix(): Promise<string> {
  const prefix = await emptyDir();
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", INSTALL_SCRIPT, "--prefix", prefix],
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(300_000),
  }).output();
  if (!out.success) {
    throw new Error(`deno task install failed:\n${new TextDecoder().decode(out.stderr)}`);
  }
  return prefix;
}
