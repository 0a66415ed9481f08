/**
 * The command line, shaped like runc's: global flags, then a command and its flags.
 * Every failure is logged (`--log`, `--log-format json` for engines) and printed on
 * stderr, and the exit code is 1; `run` and `exec` in the foreground exit with the
 * process's status.
 *
 * @module
 */

import { ContainerError, defaultStateRoot, OCI_SPEC_VERSION } from "../../mod.ts";
import { checkpoint, restore } from "./commands/checkpoint.ts";
import { kill, pause, resume } from "./commands/control.ts";
import { events } from "./commands/events.ts";
import { exec } from "./commands/exec.ts";
import { features } from "./commands/features.ts";
import { create, remove, run, start } from "./commands/lifecycle.ts";
import { list, ps, state } from "./commands/query.ts";
import { spec } from "./commands/spec.ts";
import { update } from "./commands/update.ts";
import { PlannerFallback } from "../../oci.ts";
import { type Command, ExitCodeError } from "./context.ts";
import { bool, HelpRequested, parseFlags, str, UsageError } from "./flags.ts";
import { callerPath, type CliIo, localIo } from "./io.ts";
import { Logger } from "./log.ts";
import { planner } from "./commands/planner.ts";
import { COMMAND_HELP, commandHelp, mainHelp, programName } from "./usage.ts";

/** The CLI's version. */
export const VERSION = "0.1.0";

const COMMANDS: Record<string, Command> = {
  checkpoint,
  restore,
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
  planner,
};

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

/**
 * Runs the CLI with `args`; resolves to the process exit code. `io` is where the call reads,
 * writes and makes processes: this process's own by default, a caller's in the planner.
 */
export async function main(args: string[], io: CliIo = localIo()): Promise<number> {
  const program = programName(io.argv0);
  let logger = new Logger({ stderr: io.err });
  let name: string | undefined;
  try {
    const globals = parseFlags(args, GLOBAL_FLAGS, { reorder: false });
    const format = str(globals, "log-format", "text");
    if (format !== "text" && format !== "json") {
      throw new UsageError(`invalid --log-format "${format}": use text or json`);
    }
    const log = str(globals, "log");
    logger = new Logger({
      file: log === undefined ? undefined : callerPath(io, log),
      format,
      debug: bool(globals, "debug"),
      stderr: io.err,
    });
    if (bool(globals, "version")) {
      io.out(versionText(program));
      return 0;
    }
    let [first, ...rest]: string[] = globals.positionals;
    if ((first === "help" || first === "h") && rest[0] === undefined) {
      io.out(mainHelp(VERSION, program));
      return 0;
    }
    // `help CMD` is `CMD --help`.
    if (first === "help" || first === "h") [first, rest] = [rest[0], ["--help"]];
    name = first;
    if (bool(globals, "help") || name === undefined) {
      (name === undefined && !bool(globals, "help") ? io.err : io.out)(
        mainHelp(VERSION, program),
      );
      return name === undefined && !bool(globals, "help") ? 1 : 0;
    }
    const command = COMMANDS[name];
    if (!command) throw new ContainerError("ConfigInvalid", `No help topic for '${name}'`);
    if (bool(globals, "systemd-cgroup")) {
      throw new ContainerError(
        "ConfigInvalid",
        "--systemd-cgroup: the systemd cgroup driver is not supported (there is no systemd " +
          "here); use the cgroupfs driver",
      );
    }
    const root = str(globals, "root");
    const factory = io.createFactory({
      root: root === undefined ? defaultStateRoot() : callerPath(io, root),
    });
    logger.log("debug", `cell ${args.join(" ")} (${io.servedBy})`);
    return await command({
      factory,
      logger,
      debug: bool(globals, "debug"),
      criu: str(globals, "criu", "criu")!,
      io,
    }, rest);
  } catch (e) {
    // The planner has the caller run this call itself: nothing was said or done yet.
    if (e instanceof PlannerFallback) throw e;
    if (e instanceof HelpRequested) {
      io.out(commandHelp(name ?? "", e.specs, program));
      return 0;
    }
    const message = e instanceof Error ? e.message : String(e);
    logger.log("error", message);
    if (logger.toFile || !(e instanceof ContainerError || e instanceof ExitCodeError)) {
      io.err(`${program}: ${message}`);
    }
    if (e instanceof UsageError) {
      io.err(
        `Incorrect Usage.\n\n${
          e.specs && name && COMMAND_HELP[name]
            ? commandHelp(name, e.specs, program)
            : mainHelp(VERSION, program)
        }`,
      );
    }
    return e instanceof ExitCodeError ? e.code : 1;
  }
}

/** `--version`: runc's lines (version, commit, spec), then the Deno that runs us. */
function versionText(program: string): string {
  // The commit of the code that runs (the install script sets it), not the caller's.
  const commit = Deno.env.get("CELL_COMMIT") || "unknown";
  return `${program} version ${VERSION}\ncommit: ${commit}\nspec: ${OCI_SPEC_VERSION}\n` +
    `deno: ${Deno.version.deno}`;
}
