/**
 * `deno task build`: builds libcell and the front door (`zig-out/bin/cell`) with `zig build`
 * when a Zig source is newer than either (or one is missing). Quiet when nothing is stale.
 *
 * @module
 */

import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const LIB = join(ROOT, "zig-out/lib/libcell.so");
const DOOR = join(ROOT, "zig-out/bin/cell");

function newestSource(): number {
  let newest = Deno.statSync(join(ROOT, "build.zig")).mtime?.getTime() ?? 0;
  for (const entry of Deno.readDirSync(join(ROOT, "zig-src"))) {
    const t = Deno.statSync(join(ROOT, "zig-src", entry.name)).mtime?.getTime() ?? 0;
    newest = Math.max(newest, t);
  }
  return newest;
}

function isStale(): boolean {
  try {
    const built = Math.min(
      ...[LIB, DOOR].map((path) => Deno.statSync(path).mtime?.getTime() ?? 0),
    );
    return built < newestSource();
  } catch {
    return true;
  }
}

/** Builds the native library and the front door if stale; throws if zig fails. */
export async function ensureBuilt(force = false): Promise<void> {
  if (!force && !isStale()) return;
  const zig = new Deno.Command("zig", {
    args: ["build"],
    cwd: ROOT,
    stdout: "inherit",
    stderr: "inherit",
  });
  let status: Deno.CommandStatus;
  try {
    status = await zig.spawn().status;
  } catch (e) {
    throw new Error(`cannot run zig (install it with: sudo tools/setup.sh): ${e}`);
  }
  if (!status.success) throw new Error(`zig build failed (exit ${status.code})`);
  // zig may keep a cached output with an old mtime; touch so staleness is judged right.
  const now = new Date();
  for (const path of [LIB, DOOR]) Deno.utimeSync(path, now, now);
}

if (import.meta.main) {
  await ensureBuilt(Deno.args.includes("--force"));
}
