/**
 * `deno task install [--prefix DIR]`: builds libcell and writes `DIR/bin/cell` (default
 * /usr/local/bin/cell), a small shell script that runs this checkout's cli.ts with this
 * deno binary by absolute path. Engines call runtimes with an almost empty environment
 * (podman runs `kill` and `delete` without PATH or HOME), so the script needs neither:
 * deno is named by path and its cache is fixed. The library is found beside cli.ts.
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
const bin = join(String(values.prefix), "bin");
const repo = dirname(dirname(fileURLToPath(import.meta.url)));
const cli = join(repo, "cli.ts");
const deno = Deno.realPathSync(Deno.execPath());
const cache = "/var/cache/cell/deno";

const build = await new Deno.Command(deno, {
  args: ["run", "-A", join(repo, "tools/build.ts")],
  stdout: "inherit",
  stderr: "inherit",
}).output();
if (!build.success) Deno.exit(build.code);

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
CELL_ARGV0="$0" CELL_COMMIT=${commit} DENO_DIR=\${DENO_DIR:-${cache}} DENO_NO_UPDATE_CHECK=1 exec ${deno} run --allow-all --no-lock --no-config --no-npm --no-remote ${cli} "$@"
`;
Deno.mkdirSync(bin, { recursive: true });
Deno.mkdirSync(cache, { recursive: true });
const target = join(bin, "cell");
Deno.writeTextFileSync(`${target}.tmp`, script, { mode: 0o755 });
Deno.chmodSync(`${target}.tmp`, 0o755);
Deno.renameSync(`${target}.tmp`, target);

// Warm the module cache with an empty environment, as an engine would call it.
const check = await new Deno.Command(target, { args: ["--version"], clearEnv: true }).output();
if (!check.success) {
  console.error(`install: ${target} --version failed:\n${new TextDecoder().decode(check.stderr)}`);
  Deno.exit(1);
}
console.log(`installed ${target}: ${new TextDecoder().decode(check.stdout).split("\n")[0]}`);
