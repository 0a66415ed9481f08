/**
 * `--debug` lines for the stages of making a process. runc's integration tests look for
 * the names of runc's stages in its debug output; cell logs its own equivalent points
 * under those names: the native spawn does in one step what runc's `nsexec` and `init`
 * stages do, so the lines come before the spawn and once the process has exec'd.
 *
 * @module
 */

import type { CliContext } from "./context.ts";

/** Logs the start of a spawn; the returned function logs its end. */
export function debugSpawn(ctx: CliContext, kind: "init" | "exec"): (pid: number) => void {
  if (!ctx.debug) return () => {};
  ctx.logger.log(
    "debug",
    `nsexec container setup: spawning the ${kind} process (one native clone)`,
  );
  return (pid) => {
    ctx.logger.log("debug", `child process in init(): pid ${pid} set up its namespaces and mounts`);
    if (kind === "exec") ctx.logger.log("debug", `setns_init: about to exec (pid ${pid})`);
    else ctx.logger.log("debug", `init: closing the pipe to signal completion (pid ${pid})`);
  };
}
