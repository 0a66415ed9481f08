/**
 * `exec ID CMD...`: another process in a running (or created) container, from a
 * process.json (`--process`) or from the config's process with the flags applied.
 *
 * @module
 */

import type { Container } from "../../container/container.ts";
import type { Capabilities, Process } from "../../config/types.ts";
import { ContainerError } from "../../errors.ts";
import type { ProcessOptions } from "../../process/options.ts";
import { preservedFds, writePidFile } from "../bundle.ts";
import { type CliContext, type Command, ExitCodeError } from "../context.ts";
import { bool, int, list, type Parsed, parseFlags, str } from "../flags.ts";
import { consoleFor } from "../terminal.ts";
import { SignalForwarder } from "../signals.ts";

const EXEC_FLAGS = {
  process: { type: "string", short: "p" },
  detach: { type: "boolean", short: "d" },
  "pid-file": { type: "string" },
  tty: { type: "boolean", short: "t" },
  "console-socket": { type: "string" },
  cwd: { type: "string" },
  env: { type: "string", short: "e", multiple: true },
  user: { type: "string", short: "u" },
  "additional-gids": { type: "string", short: "g", multiple: true },
  cap: { type: "string", short: "c", multiple: true },
  "no-new-privs": { type: "boolean" },
  "preserve-fds": { type: "string" },
  apparmor: { type: "string" },
  "process-label": { type: "string" },
  "ignore-paused": { type: "boolean" },
} as const;

/** `exec [flags] ID [CMD ARGS...]`. */
export const exec: Command = async (ctx, args) => {
  const p = parseFlags(args, EXEC_FLAGS);
  const [id, ...command] = p.positionals;
  if (!id) {
    throw new ContainerError(
      "ConfigInvalid",
      "usage: cell exec [command options] <container-id> <command> [args...]",
    );
  }
  try {
    return await execIn(ctx, p, id, command);
  } catch (e) {
    throw new ExitCodeError(e, 255); // runc's exec: 255 when its process never ran
  }
};

/** The exec once its arguments are known; resolves to the process's exit code. */
async function execIn(
  ctx: CliContext,
  p: Parsed,
  id: string,
  command: string[],
): Promise<number> {
  const container = await ctx.factory.load(id);
  const file = str(p, "process");
  const { options, terminal } = file ? fromProcessFile(file) : fromFlags(container, p, command);
  const detach = bool(p, "detach");
  using signals = detach ? null : new SignalForwarder();
  using console = consoleFor(container, str(p, "console-socket"), { detached: detach, terminal });
  const proc = await container.start({
    ...options,
    detached: detach,
    extraFds: preservedFds(int(p, "preserve-fds", 0)),
    ...console.options,
  });
  const pidFile = str(p, "pid-file");
  if (pidFile) writePidFile(pidFile, proc.pid);
  if (detach) return 0;
  console.attach();
  const code = await signals!.wait(proc);
  await console.done();
  return code;
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
    },
    terminal: process.terminal === true,
  };
}

function fromFlags(
  container: Container,
  p: Parsed,
  command: string[],
): { options: ProcessOptions; terminal: boolean } {
  if (command.length === 0) {
    throw new ContainerError(
      "ConfigInvalid",
      "exec needs a command: cell exec <container-id> <command> [args...]",
    );
  }
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

/** `--cap` adds to the bounding, effective and permitted sets, as runc does. */
function addCaps(base: Capabilities | undefined, caps: string[]): Capabilities {
  const add = (set?: string[]) => [...new Set([...(set ?? []), ...caps])];
  return {
    ...base,
    bounding: add(base?.bounding),
    effective: add(base?.effective),
    permitted: add(base?.permitted),
  };
}
