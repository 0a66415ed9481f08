/**
 * `deno task test`: builds what is stale, runs the native unit tests, every TypeScript
 * test in `tests/` as root on this host (the CLI in-process), the CLI's and engines' tests
 * again through the installed front door (`CELL_TEST_PATH=door`), then the cgroup v2 tests (`tests/v2/`) in the
 * QEMU guest (`deno task test:vm`). Extra arguments go to `deno test` on the host (e.g.
 * `--filter=oom`), and then the guest is not booted. `tests/unit/` alone needs no root:
 * `deno task test:unit`.
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import { ensureBuilt } from "./build.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

async function step(
  cmd: string,
  args: string[],
  env?: Record<string, string>,
): Promise<boolean> {
  const child = new Deno.Command(cmd, {
    args,
    env,
    cwd: ROOT,
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
  return (await child.status).success;
}

if (Deno.uid() !== 0) {
  console.error(
    "cell's tests create real containers: run them as root (`deno task test:unit` runs the " +
      "ones that need no root)",
  );
  Deno.exit(1);
}
await ensureBuilt();
const zig = await step("zig", ["test", "-O", "ReleaseSafe", "zig-src/tests.zig"]);
console.log(`native unit tests: ${zig ? "ok" : "FAILED"}`);
const host = await step(Deno.execPath(), [
  "test",
  "-A",
  "--ignore=tests/v2/",
  ...Deno.args,
  "tests/",
]);
// The CLI's and the engines' tests again, through the front door and its resident planner
// (the run above takes the in-process path): both must behave the same.
const prefix = Deno.makeTempDirSync({ prefix: "cell-test-door-" });
let door = false;
try {
  console.log("== the CLI and engines through the front door ==");
  door = await step(Deno.execPath(), ["run", "-A", "tools/install.ts", "--prefix", prefix]) &&
    await step(Deno.execPath(), [
      "test",
      "-A",
      ...Deno.args,
      "tests/cli/",
      "tests/engines/",
    ], { CELL_TEST_PATH: "door", CELL_TEST_PREFIX: prefix, CELL_PLANNER_IDLE_MS: "5000" });
} finally {
  Deno.removeSync(prefix, { recursive: true });
}
let vm = true;
if (Deno.args.length === 0) {
  // .ci/run reads the host's summary from before this line and the guest's after it.
  console.log("== the cgroup v2 guest ==");
  vm = await step(Deno.execPath(), ["run", "-A", "tools/vm/run.ts"]);
}
Deno.exit(zig && host && door && vm ? 0 : 1);
