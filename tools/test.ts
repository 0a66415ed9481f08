/**
 * `deno task test`: builds what is stale, runs the native unit tests, then every
 * TypeScript test as root. Extra arguments go to `deno test` (e.g. a filter).
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import { ensureBuilt } from "./build.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

if (Deno.uid() !== 0) {
  console.error("cell's tests create real containers: run them as root (sudo deno task test)");
  Deno.exit(1);
}
await ensureBuilt();
const zig = await new Deno.Command("zig", {
  args: ["test", "-O", "ReleaseSafe", "zig-src/tests.zig"],
  cwd: ROOT,
  stdout: "inherit",
  stderr: "inherit",
}).spawn().status;
console.log(`native unit tests: ${zig.success ? "ok" : "FAILED"}`);
const deno = await new Deno.Command(Deno.execPath(), {
  args: ["test", "-A", "--ignore=tests/v2/", ...Deno.args, "tests/"],
  cwd: ROOT,
  stdout: "inherit",
  stderr: "inherit",
}).spawn().status;
Deno.exit(zig.success && deno.success ? 0 : 1);
