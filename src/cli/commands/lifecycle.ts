/**
 * `create`, `start`, `run` and `delete`: a container's life as runc's commands shape it.
 *
 * @module
 */

import {
  ContainerError,
  type ContainerProcess,
  runtimePaths,
  sandboxConfig,
} from "../../../mod.ts";
import { bundlePaths, PlannerFallback, readBundle, writePidFile } from "../../../oci.ts";
import { callerPath, type CliIo } from "../io.ts";
import type { Command } from "../context.ts";
import { args, bool, int, type Parsed, parseFlags, str } from "../flags.ts";
import { SignalForwarder } from "../signals.ts";
import { consoleFor } from "../terminal.ts";
import { debugSpawn } from "../debug.ts";

const CREATE_FLAGS = {
  bundle: {
    type: "string",
    short: "b",
    help: "the bundle directory (default: the current directory)",
  },
  "console-socket": {
    type: "string",
    help: "an AF_UNIX socket to send the master of the init's terminal to",
  },
  "pid-file": { type: "string", help: "write the init's pid to this file" },
  "no-pivot": {
    type: "boolean",
    help: "enter the root filesystem without pivot_root (for a rootfs on a ramdisk)",
  },
  "no-new-keyring": {
    type: "boolean",
    help: "accepted for runc's sake: cell makes no session keyring",
  },
  "preserve-fds": {
    type: "string",
    help: "pass N more fds (3 to 3+N-1) to the init (default: 0)",
  },
} as const;

const RUN_FLAGS = {
  ...CREATE_FLAGS,
  detach: { type: "boolean", short: "d", help: "leave the container running and return" },
  keep: { type: "boolean", help: "keep the container after its init exits" },
  "no-subreaper": { type: "boolean", help: "accepted for runc's sake: cell is no subreaper" },
} as const;

/** `create ID`: sets everything up and leaves the init blocked before its exec. */
export const create: Command = async (ctx, argv) => {
  const p = parseFlags(argv, CREATE_FLAGS);
  const [id] = args(p, { exactly: 1 }, "create");
  const { bundle, config } = readBundle(callerPath(ctx.io, str(p, "bundle", ".")!));
  const container = await ctx.factory.create(id, config, {
    bundle,
    noPivotRoot: bool(p, "no-pivot"),
  });
  // `process` is optional in the spec: such a container is created, and `start` refuses it.
  if (!container.config.process) return 0;
  try {
    using console = consoleFor(ctx.io, container, str(p, "console-socket"), { detached: true });
    const spawned = debugSpawn(ctx, "init");
    const init = await container.createInit({
      detached: true,
      extraFds: ctx.io.preservedFds(int(p, "preserve-fds", 0)),
      ...console.options,
    });
    spawned(init.pid);
    const pidFile = str(p, "pid-file");
    if (pidFile) writePidFile(callerPath(ctx.io, pidFile), init.pid);
  } catch (e) {
    await container.destroy();
    throw e;
  }
  return 0;
};

/** `start ID`: lets a created container's init exec its program. */
export const start: Command = async (ctx, argv) => {
  const [id] = args(parseFlags(argv, {}), { exactly: 1 }, "start");
  const container = await ctx.factory.load(id);
  await container.startInit();
  return 0;
};

/** `run ID`: create and start; in the foreground, wait and exit with the init's status. */
export const run: Command = async (ctx, argv) => {
  const p = parseFlags(argv, RUN_FLAGS);
  const [id, ...rest] = args(p, { atLeast: 1 }, "run");
  const { bundle, config } = bundleOrSandbox(p, rest, ctx.io);
  const detach = bool(p, "detach");
  const container = await ctx.factory.create(id, config, {
    bundle,
    noPivotRoot: bool(p, "no-pivot"),
  });
  let init: ContainerProcess;
  let failed = true;
  let handedBack = false;
  try {
    using signals = detach ? null : new SignalForwarder({ listen: ctx.io.forwardsSignals });
    using console = consoleFor(ctx.io, container, str(p, "console-socket"), { detached: detach });
    const spawned = debugSpawn(ctx, "init");
    init = await container.start({
      detached: detach,
      extraFds: ctx.io.preservedFds(int(p, "preserve-fds", 0)),
      ...console.options,
    });
    spawned(init.pid);
    const pidFile = str(p, "pid-file");
    if (pidFile) writePidFile(callerPath(ctx.io, pidFile), init.pid);
    failed = false;
    if (detach) return 0;
    console.attach();
    const code = await signals!.wait(init);
    await console.done();
    return code;
  } catch (e) {
    // The planner hands the call back to the caller, who makes the container again.
    handedBack = e instanceof PlannerFallback;
    throw e;
  } finally {
    // As runc: gone when it ends in the foreground or fails to start, unless --keep.
    if ((failed || !detach) && (!bool(p, "keep") || handedBack)) await container.destroy();
  }
};

/**
 * The bundle's config; with no config.json there, the built-in sandbox running the
 * command after `--` (default `sh`): the host seen read-only, deno and libcell hidden.
 */
function bundleOrSandbox(
  p: Parsed,
  rest: string[],
  io: CliIo,
): { bundle: string; config: unknown } {
  const dir = callerPath(io, str(p, "bundle", ".")!);
  const { bundle, configPath } = bundlePaths(dir);
  try {
    Deno.statSync(configPath);
    // A bundle's run takes the id alone, as runc's.
    args(p, { exactly: 1 }, "run");
    return readBundle(dir);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  const command = rest[0] === "--" ? rest.slice(1) : rest;
  const hide = runtimePaths();
  return { bundle, config: sandboxConfig({ args: command.length ? command : ["sh"], hide }) };
}

/** `delete ID`: removes a stopped or created container; `--force` kills a running one. */
export const remove: Command = async (ctx, argv) => {
  const p = parseFlags(argv, {
    force: { type: "boolean", short: "f", help: "kill a running container (SIGKILL) first" },
  });
  const [id] = args(p, { exactly: 1 }, "delete");
  // --force removes whatever is left, even of a container whose state is gone or unreadable.
  if (bool(p, "force")) {
    await ctx.factory.destroy(id);
    return 0;
  }
  const container = await ctx.factory.load(id);
  const status = await container.status();
  if (status === "running" || status === "paused" || status === "pausing") {
    throw new ContainerError(
      "ContainerNotRunning",
      `cannot delete container ${id} that is not stopped: ${status}`,
    );
  }
  await container.destroy();
  return 0;
};
