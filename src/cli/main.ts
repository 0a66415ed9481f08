/**
 * The command line, shaped like runc's: global flags, then a command and its flags.
 * Every failure is logged (`--log`, `--log-format json` for engines) and printed on
 * stderr, and the exit code is 1; `run` and `exec` in the foreground exit with the
 * process's status.
 *
 * @module
 */

import { ContainerError, createFactory, defaultStateRoot, OCI_SPEC_VERSION } from "../../mod.ts";
import { checkpoint, restore } from "./commands/checkpoint.ts";
import { kill, pause, resume } from "./commands/control.ts";
import { events } from "./commands/events.ts";
import { exec } from "./commands/exec.ts";
import { features } from "./commands/features.ts";
import { create, remove, run, start } from "./commands/lifecycle.ts";
import { list, ps, state } from "./commands/query.ts";
import { spec } from "./commands/spec.ts";
import { update } from "./commands/update.ts";
import { type Command, ExitCodeError } from "./context.ts";
import { bool, HelpRequested, parseFlags, str, UsageError } from "./flags.ts";
import { Logger } from "./log.ts";
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

/** Runs the CLI with `args`; resolves to the process exit code. */
export async function main(args: string[]): Promise<number> {
  let logger = new Logger();
  let name: string | undefined;
  try {
    const globals = parseFlags(args, GLOBAL_FLAGS, { reorder: false });
    const format = str(globals, "log-format", "text");
    if (format !== "text" && format !== "json") {
      throw new UsageError(`invalid --log-format "${format}": use text or json`);
    }
    logger = new Logger({ file: str(globals, "log"), format, debug: bool(globals, "debug") });
    if (bool(globals, "version")) {
      console.log(versionText());
      return 0;
    }
    let [first, ...rest]: string[] = globals.positionals;
    if ((first === "help" || first === "h") && rest[0] === undefined) {
      console.log(mainHelp(VERSION));
      return 0;
    }
    // `help CMD` is `CMD --help`.
    if (first === "help" || first === "h") [first, rest] = [rest[0], ["--help"]];
    name = first;
    if (bool(globals, "help") || name === undefined) {
      (name === undefined && !bool(globals, "help") ? console.error : console.log)(
        mainHelp(VERSION),
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
    const factory = createFactory({ root: str(globals, "root") ?? defaultStateRoot() });
    logger.log("debug", `cell ${args.join(" ")}`);
    return await command({
      factory,
      logger,
      debug: bool(globals, "debug"),
      criu: str(globals, "criu", "criu")!,
    }, rest);
  } catch (e) {
    if (e instanceof HelpRequested) {
      console.log(commandHelp(name ?? "", e.specs));
      return 0;
    }
    const message = e instanceof Error ? e.message : String(e);
    logger.log("error", message);
    if (logger.toFile || !(e instanceof ContainerError || e instanceof ExitCodeError)) {
      console.error(`${programName()}: ${message}`);
    }
    if (e instanceof UsageError) {
      console.error(
        `Incorrect Usage.\n\n${
          e.specs && name && COMMAND_HELP[name] ? commandHelp(name, e.specs) : mainHelp(VERSION)
        }`,
      );
    }
    return e instanceof ExitCodeError ? e.code : 1;
  }
}

/** `--version`: runc's lines (version, commit, spec), then the Deno that runs us. */
function versionText(): string {
  const commit = Deno.env.get("CELL_COMMIT") || "unknown";
  return `${programName()} version ${VERSION}\ncommit: ${commit}\nspec: ${OCI_SPEC_VERSION}\n` +
    `deno: ${Deno.version.deno}`;
}
