/**
 * `create`, `start`, `run` and `delete`: a container's life as runc's commands shape it.
 *
 * @module
 */

import { join, resolve } from "../../path.ts";
import { libraryPath, loadLibrary } from "../../../ffi/library.ts";
import { sandboxConfig } from "../../config/defaults.ts";
import type { Container } from "../../container/container.ts";
import { ContainerError } from "../../errors.ts";
import type { ContainerProcess } from "../../process/handle.ts";
import { preservedFds, readBundle, writePidFile } from "../bundle.ts";
import type { Command } from "../context.ts";
import { bool, int, need, parseFlags, str } from "../flags.ts";
import { SignalForwarder } from "../signals.ts";
import { consoleFor } from "../terminal.ts";

const CREATE_FLAGS = {
  bundle: { type: "string", short: "b" },
  "console-socket": { type: "string" },
  "pid-file": { type: "string" },
  "no-pivot": { type: "boolean" },
  "no-new-keyring": { type: "boolean" },
  "preserve-fds": { type: "string" },
} as const;

/** `create ID`: sets everything up and leaves the init blocked before its exec. */
export const create: Command = async (ctx, args) => {
  const p = parseFlags(args, CREATE_FLAGS);
  const [id] = need(p, 1, "create [command options] <container-id>");
  const { bundle, config } = readBundle(str(p, "bundle", ".")!);
  const container = await ctx.factory.create(id, config, {
    bundle,
    noPivotRoot: bool(p, "no-pivot"),
  });
  // `process` is optional in the spec: such a container is created, and `start` refuses it.
  if (!container.config.process) return 0;
  try {
    using console = consoleFor(container, str(p, "console-socket"), { detached: true });
    const init = await container.createInit({
      detached: true,
      extraFds: preservedFds(int(p, "preserve-fds", 0)),
      ...console.options,
    });
    const pidFile = str(p, "pid-file");
    if (pidFile) writePidFile(pidFile, init.pid);
  } catch (e) {
    await container.destroy();
    throw e;
  }
  return 0;
};

/** `start ID`: lets a created container's init exec its program. */
export const start: Command = async (ctx, args) => {
  const p = parseFlags(args, {});
  const [id] = need(p, 1, "start <container-id>");
  const container = await ctx.factory.load(id);
  await container.startInit();
  return 0;
};

/** `run ID`: create and start; in the foreground, wait and exit with the init's status. */
export const run: Command = async (ctx, args) => {
  const p = parseFlags(args, {
    ...CREATE_FLAGS,
    detach: { type: "boolean", short: "d" },
    keep: { type: "boolean" },
  });
  const [id, ...rest] = need(p, 1, "run [command options] <container-id> [-- command]");
  const { bundle, config } = bundleOrSandbox(str(p, "bundle", ".")!, rest);
  const detach = bool(p, "detach");
  const container = await ctx.factory.create(id, config, {
    bundle,
    noPivotRoot: bool(p, "no-pivot"),
  });
  let init: ContainerProcess;
  try {
    using signals = detach ? null : new SignalForwarder();
    using console = consoleFor(container, str(p, "console-socket"), { detached: detach });
    init = await container.start({
      detached: detach,
      extraFds: preservedFds(int(p, "preserve-fds", 0)),
      ...console.options,
    });
    const pidFile = str(p, "pid-file");
    if (pidFile) writePidFile(pidFile, init.pid);
    if (detach) return 0;
    console.attach();
    const code = await signals!.wait(init);
    await console.done();
    return code;
  } finally {
    if (!detach && !bool(p, "keep")) await container.destroy();
  }
};

/**
 * The bundle's config; with no config.json there, the built-in sandbox running the
 * command after `--` (default `sh`): the host seen read-only, deno and libcell hidden.
 */
function bundleOrSandbox(dir: string, rest: string[]): { bundle: string; config: unknown } {
  const bundle = resolve(dir);
  try {
    Deno.statSync(join(bundle, "config.json"));
    return readBundle(dir);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  const command = rest[0] === "--" ? rest.slice(1) : rest;
  loadLibrary();
  const hide = [Deno.execPath(), libraryPath()].filter((p): p is string => !!p);
  return { bundle, config: sandboxConfig({ args: command.length ? command : ["sh"], hide }) };
}

/** `delete ID`: removes a stopped or created container; `--force` kills a running one. */
export const remove: Command = async (ctx, args) => {
  const p = parseFlags(args, { force: { type: "boolean", short: "f" } });
  const [id] = need(p, 1, "delete [command options] <container-id>");
  let container: Container;
  try {
    container = await ctx.factory.load(id);
  } catch (e) {
    if (bool(p, "force") && e instanceof ContainerError && e.code === "ContainerNotFound") return 0;
    throw e;
  }
  const status = await container.status();
  if ((status === "running" || status === "paused" || status === "pausing") && !bool(p, "force")) {
    throw new ContainerError(
      "ContainerNotRunning",
      `cannot delete container ${id} that is not stopped: ${status}`,
    );
  }
  await container.destroy();
  return 0;
};
