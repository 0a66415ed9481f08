/**
 * `kill`, `pause` and `resume`.
 *
 * @module
 */

import { ContainerError } from "../../../mod.ts";
import { signalNumber } from "../../../oci.ts";
import type { Command } from "../context.ts";
import { args, bool, parseFlags } from "../flags.ts";

/** `kill ID [SIGNAL]`: signals the init (default SIGTERM), or every process with `--all`. */
export const kill: Command = async (ctx, argv) => {
  const p = parseFlags(argv, {
    all: { type: "boolean", short: "a", help: "signal every process of the container" },
  });
  const [id, signal = "SIGTERM"] = args(p, { atLeast: 1, atMost: 2 }, "kill");
  const number = /^\d+$/.test(signal) && Number(signal) === 0 ? 0 : signalNumber(signal);
  const container = await ctx.factory.load(id);
  if (number === 0) {
    // kill(2)'s null signal: nothing is sent; only whether there is a process is checked.
    const status = await container.status();
    if (!bool(p, "all") && !["created", "running", "pausing", "paused"].includes(status)) {
      throw new ContainerError("ContainerNotRunning", "container not running");
    }
    return 0;
  }
  await container.signal(number, { all: bool(p, "all") });
  return 0;
};

/** `pause ID`: freezes every process of the container. */
export const pause: Command = async (ctx, argv) => {
  const [id] = args(parseFlags(argv, {}), { exactly: 1 }, "pause");
  await (await ctx.factory.load(id)).pause();
  return 0;
};

/** `resume ID`: thaws a paused container. */
export const resume: Command = async (ctx, argv) => {
  const [id] = args(parseFlags(argv, {}), { exactly: 1 }, "resume");
  await (await ctx.factory.load(id)).resume();
  return 0;
};
