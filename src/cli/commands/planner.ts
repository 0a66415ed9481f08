/**
 * `planner` (not in runc's command set; the door starts it): serves this state root's
 * calls over `<root>/planner.sock` until a minute (`--idle`, or CELL_PLANNER_IDLE_MS)
 * passes without one, each call run by the
 * CLI's main in the caller's world (./io.ts). CELL_CODE_HASH names the code it runs (the
 * install writes it); a door of other code makes it retire.
 *
 * @module
 */

import { servePlanner } from "../../../oci.ts";
import type { Command } from "../context.ts";
import { args, parseFlags, str } from "../flags.ts";
import { plannerIo } from "../io.ts";
import { main } from "../main.ts";

/** `planner [--idle DURATION_MS]`. */
export const planner: Command = async (ctx, argv) => {
  const p = parseFlags(argv, {
    idle: { type: "string", help: "exit after this many ms without a call (default 60000)" },
  });
  args(p, { exactly: 0 }, "planner");
  const codeHash = ctx.io.env("CELL_CODE_HASH");
  if (!codeHash) throw new Error("planner: CELL_CODE_HASH is not set (the install sets it)");
  const end = await servePlanner({
    root: ctx.factory.root,
    codeHash,
    idleMs: Number(str(p, "idle", ctx.io.env("CELL_PLANNER_IDLE_MS") ?? "60000")),
    handle: (call) => main([...call.argv], plannerIo(call)),
    log: (message) => ctx.logger.log("error", `planner: ${message}`),
  });
  ctx.logger.log("debug", `planner: ended (${end})`);
  return 0;
};
