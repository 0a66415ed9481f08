/**
 * `exec ID CMD...`: another process in a running (or created) container, from a
 * process.json (`--process`) or from the config's process with the flags applied. As
 * runc's: flags end at the container id (no reordering), the process has a terminal only
 * with `--tty` (or `terminal` in the process.json), and an exec that cannot start exits 255.
 *
 * @module
 */

import {
  type Capabilities,
  type Container,
  ContainerError,
  type Process,
  type ProcessOptions,
} from "../../../mod.ts";
import { PlannerFallback, writePidFile } from "../../../oci.ts";
import { callerPath } from "../io.ts";
import { type CliContext, type Command, ExitCodeError } from "../context.ts";
import { debugSpawn } from "../debug.ts";
import { args, bool, int, list, type Parsed, parseFlags, str } from "../flags.ts";
import { consoleFor } from "../terminal.ts";
import { SignalForwarder } from "../signals.ts";

const EXEC_FLAGS = {
  "console-socket": {
    type: "string",
    help: "an AF_UNIX socket to send the master of the process's terminal to",
  },
  cwd: { type: "string", help: "the working directory inside the container" },
  env: { type: "string", short: "e", multiple: true, help: "set an environment variable" },
  tty: { type: "boolean", short: "t", help: "give the process a terminal" },
  user: { type: "string", short: "u", help: "the user, as <uid>[:<gid>]" },
  "additional-gids": { type: "string", short: "g", multiple: true, help: "a supplementary gid" },
  process: { type: "string", short: "p", help: "a process.json to run" },
  detach: { type: "boolean", short: "d", help: "leave the process running and return" },
  "pid-file": { type: "string", help: "write the process's pid to this file" },
  "process-label": { type: "string", help: "the SELinux label of the process" },
  apparmor: { type: "string", help: "the AppArmor profile of the process" },
  "no-new-privs": { type: "boolean", help: "set no_new_privs for the process" },
  cap: { type: "string", short: "c", multiple: true, help: "add a capability" },
  "preserve-fds": {
    type: "string",
    help: "pass N more fds (3 to 3+N-1) to the process (default: 0)",
  },
  cgroup: {
    type: "string",
    multiple: true,
    help: "run in an existing sub-cgroup: [<controller>[,<controller>]:]<path>",
  },
  "ignore-paused": { type: "boolean", help: "exec into a paused container once it is resumed" },
} as const;

/** `exec [flags] ID [CMD ARGS...]`. */
export const exec: Command = async (ctx, argv) => {
  const p = parseFlags(argv, EXEC_FLAGS, { reorder: false });
  const [id, ...command] = args(p, { atLeast: 1 }, "exec");
  try {
    return await execIn(ctx, ctx.factory.load(id), p, command);
  } catch (e) {
    if (e instanceof PlannerFallback) throw e; // the caller runs it: nothing was done
    throw new ExitCodeError(255, e instanceof Error ? prefixed(e) : e);
  }
};

/** runc's words: "exec failed: ..." (the original error stays the cause). */
function prefixed(e: Error): Error {
  return new Error(`exec failed: ${e.message}`, { cause: e });
}

async function execIn(
  ctx: CliContext,
  loading: Promise<Container>,
  p: Parsed,
  command: string[],
): Promise<number> {
  const container = await loading;
  await checkStatus(container, bool(p, "ignore-paused"));
  const file = str(p, "process");
  if (!file && command.length === 0) {
    throw new ContainerError("ConfigInvalid", "process args cannot be empty");
  }
  const { options, terminal } = file
    ? fromProcessFile(callerPath(ctx.io, file))
    : fromFlags(container, p, command);
  const subCgroups = subCgroupFlags(list(p, "cgroup"));
  if (subCgroups) options.subCgroups = subCgroups;
  const detach = bool(p, "detach");
  using signals = detach ? null : new SignalForwarder({ listen: ctx.io.forwardsSignals });
  using console = consoleFor(ctx.io, container, str(p, "console-socket"), {
    detached: detach,
    terminal,
  });
  const spawned = debugSpawn(ctx, "exec");
  const proc = await container.start({
    ...options,
    detached: detach,
    extraFds: ctx.io.preservedFds(int(p, "preserve-fds", 0)),
    ...console.options,
  });
  spawned(proc.pid);
  const pidFile = str(p, "pid-file");
  if (pidFile) writePidFile(callerPath(ctx.io, pidFile), proc.pid);
  if (detach) return 0;
  console.attach();
  const code = await signals!.wait(proc);
  await console.done();
  return code;
}

/**
 * runc's checks before an exec: not into a stopped container, and into a paused one only
 * with `--ignore-paused`, which here waits until the container is resumed (runc's process
 * would sit frozen in the cgroup until then: the same from outside).
 */
async function checkStatus(container: Container, ignorePaused: boolean): Promise<void> {
  for (let polls = 0;; polls++) {
    const status = await container.status();
    if (status === "stopped") {
      throw new ContainerError("ContainerNotRunning", "cannot exec in a stopped container");
    }
    if (status !== "paused" && status !== "pausing") return;
    if (!ignorePaused) {
      throw new ContainerError(
        "ContainerPaused",
        "cannot exec in a paused container (use --ignore-paused to override)",
      );
    }
    await new Promise((r) => setTimeout(r, Math.min(10 * 2 ** polls, 200)));
  }
}

/** `--cgroup` values as runc reads them: `path` alone, or `ctrl[,ctrl]:path` each. */
function subCgroupFlags(values: string[]): Record<string, string> | undefined {
  if (values.length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const value of values) {
    const parts = value.split(":");
    if (parts.length > 2) {
      throw new ContainerError("ConfigInvalid", `invalid --cgroup argument: ${value}`);
    }
    if (parts.length === 1) {
      if (values.length !== 1) {
        throw new ContainerError(
          "ConfigInvalid",
          `invalid --cgroup argument: ${value} (missing <controller>: prefix)`,
        );
      }
      out[""] = value;
      continue;
    }
    for (const controller of parts[0].split(",")) out[controller] = parts[1];
  }
  return out;
}

function fromProcessFile(file: string): { options: ProcessOptions; terminal: boolean } {
  let process: Process;
  try {
    process = JSON.parse(Deno.readTextFileSync(file));
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new ContainerError("ConfigInvalid", `--process ${file}: ${why}`, { path: file });
  }
  if (typeof process !== "object" || process === null) {
    throw new ContainerError("ConfigInvalid", `--process ${file}: not a JSON object`);
  }
  return {
    options: {
      args: process.args,
      env: process.env,
      cwd: process.cwd,
      user: process.user,
      umask: process.user?.umask,
      capabilities: process.capabilities,
      noNewPrivileges: process.noNewPrivileges,
      rlimits: process.rlimits,
      apparmorProfile: process.apparmorProfile,
      selinuxLabel: process.selinuxLabel,
      consoleSize: process.consoleSize,
    },
    terminal: process.terminal === true,
  };
}

function fromFlags(
  container: Container,
  p: Parsed,
  command: string[],
): { options: ProcessOptions; terminal: boolean } {
  const base = container.config.process;
  const options: ProcessOptions = { args: command };
  const env = list(p, "env");
  if (env.length > 0) options.env = mergeEnv(base?.env ?? [], env);
  const cwd = str(p, "cwd");
  if (cwd !== undefined) options.cwd = cwd;
  const user = str(p, "user");
  const gids = list(p, "additional-gids").map((g) => id(g, "--additional-gids"));
  if (user !== undefined || gids.length > 0) {
    const [uid, gid] = (user ?? "").split(":");
    options.user = {
      uid: uid ? id(uid, "--user") : base?.user.uid ?? 0,
      gid: gid ? id(gid, "--user") : base?.user.gid ?? 0,
      additionalGids: gids.length > 0 ? gids : base?.user.additionalGids,
    };
  }
  const caps = list(p, "cap");
  if (caps.length > 0) options.capabilities = addCaps(base?.capabilities, caps);
  if (bool(p, "no-new-privs")) options.noNewPrivileges = true;
  const apparmor = str(p, "apparmor");
  if (apparmor !== undefined) options.apparmorProfile = apparmor;
  const label = str(p, "process-label");
  if (label !== undefined) options.selinuxLabel = label;
  // runc decides from --tty alone, whatever the config's process.terminal says.
  return { options, terminal: bool(p, "tty") };
}

/** A uid or gid: digits only (names are not looked up in the container). */
function id(value: string, flag: string): number {
  if (!/^\d+$/.test(value)) {
    throw new ContainerError("ConfigInvalid", `${flag}: "${value}" is not a numeric id`);
  }
  return Number(value);
}

/** The config's environment with the flags' entries replacing same-named ones. */
function mergeEnv(base: string[], added: string[]): string[] {
  const key = (entry: string) => entry.split("=")[0];
  const replaced = new Set(added.map(key));
  return [...base.filter((e) => !replaced.has(key(e))), ...added];
}

/** `--cap` adds to the bounding, effective, permitted and ambient sets, as runc does. */
function addCaps(base: Capabilities | undefined, caps: string[]): Capabilities {
  const add = (set?: string[]) => [...new Set([...(set ?? []), ...caps])];
  return {
    ...base,
    bounding: add(base?.bounding),
    effective: add(base?.effective),
    permitted: add(base?.permitted),
    ambient: add(base?.ambient),
  };
}
