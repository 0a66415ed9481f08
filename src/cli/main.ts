/**
 * The command line, shaped like runc's: global flags, then a command and its flags.
 * Every failure is logged (`--log`, `--log-format json` for engines) and printed on
 * stderr, and the exit code is 1; `run` and `exec` in the foreground exit with the
 * process's status.
 *
 * @module
 */

import { createFactory } from "../container/factory.ts";
import { OCI_SPEC_VERSION } from "../container/container.ts";
import { ContainerError } from "../errors.ts";
import { defaultStateRoot } from "../userns/rootless.ts";
import { kill, pause, resume } from "./commands/control.ts";
import { events } from "./commands/events.ts";
import { exec } from "./commands/exec.ts";
import { features } from "./commands/features.ts";
import { create, remove, run, start } from "./commands/lifecycle.ts";
import { list, ps, state } from "./commands/query.ts";
import { spec } from "./commands/spec.ts";
import { update } from "./commands/update.ts";
import { type Command, ExitCodeError } from "./context.ts";
import { bool, parseFlags, str, UsageError } from "./flags.ts";
import { Logger } from "./log.ts";

/** The CLI's version. */
export const VERSION = "0.1.0";

const COMMANDS: Record<string, Command> = {
  create,
  start,
  run,
  state,
  list,
  ps,
  kill,
  delete: remove,
  pause,
  resume,
  exec,
  events,
  update,
  spec,
  features,
};

/** The usage text. */
export const USAGE = `usage: cell [global options] command [command options] [arguments...]

An OCI container runtime with runc's command line.

commands:
  create     create a container (its init waits before exec)
  start      start a created container
  run        create and start a container (foreground unless -d)
  state      print the OCI state of a container
  list       list containers (--format table|json, -q)
  ps         processes of a container (--format table|json)
  kill       send a signal to the init (--all: every process)
  delete     delete a container (--force kills a running one)
  pause      freeze every process of a container
  resume     thaw a paused container
  exec       run a process in a container
  events     stats and OOM events as JSON lines (--stats, --interval)
  update     change resource limits (--resources FILE|-, or the value flags)
  spec       write a config.json (--bundle, --rootless)
  features   print the OCI features document

global options:
  --root DIR          state root (default /run/cell; $XDG_RUNTIME_DIR/cell when not root)
  --log FILE          log file (default stderr)
  --log-format FMT    text or json
  --debug             log debug lines
  --systemd-cgroup    use systemd for cgroups (not supported: there is no systemd here)
  --help, -h          this text
  --version, -v       the version
`;

const GLOBAL_FLAGS = {
  root: { type: "string" },
  log: { type: "string" },
  "log-format": { type: "string" },
  debug: { type: "boolean" },
  "systemd-cgroup": { type: "boolean" },
  rootless: { type: "string" },
  criu: { type: "string" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean", short: "v" },
} as const;

/** Runs the CLI with `args`; resolves to the process exit code. */
export async function main(args: string[]): Promise<number> {
  let logger = new Logger();
  try {
    const globals = parseFlags(args, GLOBAL_FLAGS);
    const format = str(globals, "log-format", "text");
    if (format !== "text" && format !== "json") {
      throw new UsageError(`invalid --log-format "${format}": use text or json`);
    }
    logger = new Logger({ file: str(globals, "log"), format, debug: bool(globals, "debug") });
    if (bool(globals, "version")) {
      console.log(`cell version ${VERSION}\nspec: ${OCI_SPEC_VERSION}\ndeno: ${Deno.version.deno}`);
      return 0;
    }
    const [name, ...rest] = globals.positionals;
    if (bool(globals, "help") || name === "help" || name === undefined) {
      (name === undefined && !bool(globals, "help") ? console.error : console.log)(USAGE);
      return name === undefined && !bool(globals, "help") ? 1 : 0;
    }
    const command = COMMANDS[name];
    if (!command) throw new UsageError(`No help topic for '${name}'`);
    if (bool(globals, "systemd-cgroup")) {
      throw new ContainerError(
        "ConfigInvalid",
        "--systemd-cgroup: the systemd cgroup driver is not supported (there is no systemd " +
          "here); use the cgroupfs driver",
      );
    }
    if (rest.includes("--help") || rest.includes("-h")) {
      console.log(USAGE);
      return 0;
    }
    const factory = createFactory({ root: str(globals, "root") ?? defaultStateRoot() });
    logger.log("debug", `cell ${args.join(" ")}`);
    return await command({ factory, logger, debug: bool(globals, "debug") }, rest);
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    logger.log("error", message);
    const known = e instanceof ContainerError ||
      (e instanceof ExitCodeError && e.cause instanceof ContainerError);
    if (logger.toFile || !known) console.error(`cell: ${message}`);
    if (e instanceof UsageError) console.error(USAGE);
    return e instanceof ExitCodeError ? e.exitCode : 1;
  }
}
