/**
 * `deno task install [--prefix DIR]`: builds libcell and the front door, bundles the CLI
 * into one file, `DIR/lib/cell/cell.js` (`deno bundle`, which takes esbuild from the npm
 * registry), writes `DIR/lib/cell/cell-deno`, a small shell script that runs that bundle with
 * this deno binary by absolute path (the in-process path), `DIR/lib/cell/cell.hash` (the
 * code's hash, which the door and the resident planner compare), and puts the front door
 * (zig-out/bin/cell, docs/architecture.md "Three paths") at `DIR/bin/cell` (default
 * /usr/local/bin/cell). Engines call runtimes with an almost empty environment (podman runs
 * `kill` and `delete` without PATH or HOME), so nothing needs either: deno is named by path,
 * its cache is fixed and the library (this checkout's zig-out/lib/libcell.so) is named by
 * CELL_LIB. One bundled file with a warm V8 code cache starts faster than cli.ts's module
 * graph (README, "Speed").
 *
 * @module
 */

import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const { values } = parseArgs({
  args: Deno.args,
  options: { prefix: { type: "string", default: "/usr/local" } },
});
const prefix = String(values.prefix);
const bin = join(prefix, "bin");
const repo = dirname(dirname(fileURLToPath(import.meta.url)));
const deno = Deno.realPathSync(Deno.execPath());
const cache = "/var/cache/cell/deno";
const bundled = join(prefix, "lib/cell/cell.js");
const library = join(repo, "zig-out/lib/libcell.so");
const door = join(repo, "zig-out/bin/cell");
const inProcess = join(prefix, "lib/cell/cell-deno");
const hashFile = join(prefix, "lib/cell/cell.hash");
/** V8 compiles every function up front, so the code cache holds them all (measured: README). */
const V8_FLAGS = "--no-lazy";

async function step(what: string, args: string[], env?: Record<string, string>): Promise<void> {
  const out = await new Deno.Command(deno, { args, env, stdout: "inherit", stderr: "inherit" })
    .output();
  if (!out.success) {
    console.error(`install: ${what} failed (exit ${out.code})`);
    Deno.exit(out.code || 1);
  }
}

await step("building libcell", ["run", "-A", join(repo, "tools/build.ts")]);

// The manifest exists only in a published package (ffi/remote_library.ts): left outside.
// esbuild comes from the npm registry into the fixed cache (HOME may be unset).
Deno.mkdirSync(dirname(bundled), { recursive: true });
Deno.mkdirSync(cache, { recursive: true });
await step("bundling cli.ts", [
  "bundle",
  "--quiet",
  "--platform",
  "deno",
  "--no-lock",
  "--config",
  join(repo, "deno.json"),
  "--external",
  "../lib/manifest.json",
  "--output",
  `${bundled}.tmp`,
  join(repo, "cli.ts"),
], { DENO_DIR: cache, DENO_NO_UPDATE_CHECK: "1" });
Deno.renameSync(`${bundled}.tmp`, bundled);

// The checkout's commit, for `cell --version` (runc prints its commit too).
const git = await new Deno.Command("git", {
  args: ["-C", repo, "describe", "--always", "--dirty"],
  stdout: "piped",
  stderr: "null",
}).output().catch(() => null);
const commit = git?.success ? new TextDecoder().decode(git.stdout).trim() : "unknown";

/** Writes a file by a rename, so a running door or planner never reads half of it. */
function put(path: string, data: string | Uint8Array, mode: number): void {
  if (typeof data === "string") Deno.writeTextFileSync(`${path}.tmp`, data, { mode });
  else Deno.writeFileSync(`${path}.tmp`, data, { mode });
  Deno.chmodSync(`${path}.tmp`, mode);
  Deno.renameSync(`${path}.tmp`, path);
}

// The code a planner runs: the bundle and the library. A door whose hash differs from a
// running planner's has that planner retire (a reinstall never talks to old code).
const digest = new Uint8Array(
  await crypto.subtle.digest(
    "SHA-256",
    new Uint8Array([...Deno.readFileSync(bundled), ...Deno.readFileSync(library)]),
  ),
);
const hash = Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");

// CELL_ARGV0: the help calls the program by the name it was run as (urfave/cli's default):
// the door passes its own argv[0]; called directly, the script is `cell`.
const script = `#!/bin/sh
# The cell OCI runtime run in-process, installed by ${join(repo, "tools/install.ts")}.
CELL_ARGV0="\${CELL_ARGV0:-cell}" CELL_COMMIT=${commit} CELL_CODE_HASH=${hash} CELL_LIB=\${CELL_LIB:-${library}} DENO_DIR=\${DENO_DIR:-${cache}} DENO_NO_UPDATE_CHECK=1 exec ${deno} run --allow-all --no-lock --no-config --no-npm --no-remote --v8-flags=${V8_FLAGS} ${bundled} "$@"
`;
put(inProcess, script, 0o755);
put(hashFile, hash + "\n", 0o644);
Deno.mkdirSync(bin, { recursive: true });
const target = join(bin, "cell");
put(target, Deno.readFileSync(door), 0o755);

// Warm V8's code cache with an empty environment, as an engine would call it. Deno writes
// the cache once the event loop has turned, which `--version` does not reach: `list` on an
// empty state root does (and loads the library, so a wrong CELL_LIB shows here).
const root = Deno.makeTempDirSync({ prefix: "cell-install-" });
try {
  for (const args of [["--root", root, "list"], ["--version"]]) {
    const out = await new Deno.Command(inProcess, {
      args,
      clearEnv: true,
      env: { CELL_ARGV0: target },
    })
      .output();
    if (!out.success) {
      const err = new TextDecoder().decode(out.stderr);
      console.error(`install: ${inProcess} ${args.join(" ")} failed:\n${err}`);
      Deno.exit(1);
    }
    if (args[0] === "--version") {
      console.log(`installed ${target}: ${new TextDecoder().decode(out.stdout).split("\n")[0]}`);
    }
  }
} finally {
  Deno.removeSync(root, { recursive: true });
}
