/**
 * `kill`, `pause` and `resume`.
 *
 * @module
 */

import { signalNumber } from "../../process/signals.ts";
import type { Command } from "../context.ts";
import { bool, need, parseFlags } from "../flags.ts";

/** `kill ID [SIGNAL]`: signals the init (default SIGTERM), or every process with `--all`. */
export const kill: Command = async (ctx, args) => {
  const p = parseFlags(args, { all: { type: "boolean", short: "a" } });
  const [id, signal = "SIGTERM"] = need(p, 1, "kill [command options] <container-id> [signal]");
  const container = await ctx.factory.load(id);
  await container.signal(signalNumber(signal), { all: bool(p, "all") });
  return 0;
};

/** `pause ID`: freezes every process of the container. */
export const pause: Command = async (ctx, args) => {
  const [id] = need(parseFlags(args, {}), 1, "pause <container-id>");
  await (await ctx.factory.load(id)).pause();
  return 0;
};

/** `resume ID`: thaws a paused container. */
export const resume: Command = async (ctx, args) => {
  const [id] = need(parseFlags(args, {}), 1, "resume <container-id>");
  await (await ctx.factory.load(id)).resume();
  return 0;
};
