/**
 * `deno task install [--prefix DIR]`: builds libcell, bundles the CLI into one file,
 * `DIR/lib/cell/cell.js` (`deno bundle`, which takes esbuild from the npm registry), and
 * writes `DIR/bin/cell` (default /usr/local/bin/cell), a small shell script that runs that
 * bundle with this deno binary by absolute path. Engines call runtimes with an almost empty
 * environment (podman runs `kill` and `delete` without PATH or HOME), so the script needs
 * neither: deno is named by path, its cache is fixed and the library (this checkout's
 * zig-out/lib/libcell.so) is named by CELL_LIB. One bundled file with a warm V8 code cache
 * starts faster than cli.ts's module graph (README, "Speed").
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

// CELL_ARGV0: the help calls the program by the name it was run as (urfave/cli's default).
const script = `#!/bin/sh
# The cell OCI runtime, installed by ${join(repo, "tools/install.ts")}.
CELL_ARGV0="$0" CELL_COMMIT=${commit} CELL_LIB=\${CELL_LIB:-${library}} DENO_DIR=\${DENO_DIR:-${cache}} DENO_NO_UPDATE_CHECK=1 exec ${deno} run --allow-all --no-lock --no-config --no-npm --no-remote --v8-flags=${V8_FLAGS} ${bundled} "$@"
`;
Deno.mkdirSync(bin, { recursive: true });
const target = join(bin, "cell");
Deno.writeTextFileSync(`${target}.tmp`, script, { mode: 0o755 });
Deno.chmodSync(`${target}.tmp`, 0o755);
Deno.renameSync(`${target}.tmp`, target);

// Warm V8's code cache with an empty environment, as an engine would call it. Deno writes
// the cache once the event loop has turned, which `--version` does not reach: `list` on an
// empty state root does (and loads the library, so a wrong CELL_LIB shows here).
const root = Deno.makeTempDirSync({ prefix: "cell-install-" });
try {
  for (const args of [["--root", root, "list"], ["--version"]]) {
    const out = await new Deno.Command(target, { args, clearEnv: true }).output();
    if (!out.success) {
      const err = new TextDecoder().decode(out.stderr);
      console.error(`install: ${target} ${args.join(" ")} failed:\n${err}`);
      Deno.exit(1);
    }
    if (args[0] === "--version") {
      console.log(`installed ${target}: ${new TextDecoder().decode(out.stdout).split("\n")[0]}`);
    }
  }
} finally {
  Deno.removeSync(root, { recursive: true });
}
