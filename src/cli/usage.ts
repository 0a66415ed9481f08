/**
 * Help texts in the layout runc's (urfave/cli) help has: `NAME:`, `USAGE:`, a description,
 * `OPTIONS:`, so that tools and people reading runc's help find the same parts. The program
 * calls itself by the name it was invoked as (urfave/cli's default), so a `cell` installed as
 * `runc` answers as `runc`.
 *
 * @module
 */

import type { FlagSpec } from "./flags.ts";

/**
 * The name this program was invoked as (`argv0`: the install script passes its `$0` as
 * CELL_ARGV0, the door its argv[0]); else "cell".
 */
export function programName(argv0: string | undefined): string {
  const base = argv0?.split("/").filter((s) => s.length > 0).at(-1);
  return base && /^[\w.+-]+$/.test(base) ? base : "cell";
}

/** What the help of one command says besides its flags. */
interface CommandHelp {
  /** One line after the name. */
  summary: string;
  /** The arguments after `[command options]`. */
  args: string;
  /** Paragraphs after the usage line. */
  description?: string;
}

const ID = `Where "<container-id>" is the name of the container.`;

/** Every command's help, by name. */
export const COMMAND_HELP: Record<string, CommandHelp> = {
  checkpoint: {
    summary: "checkpoint a running container",
    args: "<container-id>",
    description: `${ID}\n\nSaves the container's processes to images with CRIU.`,
  },
  create: {
    summary: "create a container",
    args: "<container-id>",
    description: `${ID}\n\nSets the container up from the bundle's config.json and leaves its ` +
      `init waiting\nbefore it executes the program; "start" lets it run.`,
  },
  delete: {
    summary: "delete a container and everything it holds",
    args: "<container-id>",
    description: ID,
  },
  events: {
    summary: "show a container's resource usage and OOM events",
    args: "<container-id>",
    description: `${ID}\n\nPrints one JSON object a line: stats every --interval, and one ` +
      `line per OOM kill.`,
  },
  exec: {
    summary: "run a new process inside a container",
    args: "<container-id> <command> [command options]  || -p process.json <container-id>",
    description: `Where "<container-id>" is the name of the container and "<command>" the ` +
      `program to run\nin it. "<command>" may be left out only with -p.`,
  },
  features: {
    summary: "show what this runtime supports",
    args: "",
    description: "Prints the OCI features document (JSON).",
  },
  kill: {
    summary: "send a signal (default: SIGTERM) to the container's init process",
    args: "<container-id> [signal]",
    description: `${ID} The signal is a name (KILL, SIGKILL) or a number.`,
  },
  list: {
    summary: "list the containers of the state root",
    args: "",
  },
  pause: {
    summary: "freeze every process of a container",
    args: "<container-id>",
    description: ID,
  },
  ps: {
    summary: "show the processes of a container",
    args: "<container-id> [ps options]",
    description: `${ID} Options after it go to ps(1) (default -ef).`,
  },
  restore: {
    summary: "restore a container from a checkpoint",
    args: "<container-id>",
    description: `${ID}\n\nRestores processes saved by "checkpoint", with CRIU.`,
  },
  resume: {
    summary: "thaw a paused container",
    args: "<container-id>",
    description: ID,
  },
  run: {
    summary: "create and run a container",
    args: "<container-id>",
    description: `${ID}\n\nRuns the bundle's config.json (current directory unless -b). ` +
      `Without a config.json,\nthe command after "--" (default sh) runs in a sandbox that sees ` +
      `the host read-only.`,
  },
  spec: {
    summary: "write a starting config.json",
    args: "",
    description: `Writes what "runc spec" writes (hostname aside) into the bundle directory.`,
  },
  start: {
    summary: "start a created container",
    args: "<container-id>",
    description: ID,
  },
  state: {
    summary: "print the OCI state of a container",
    args: "<container-id>",
    description: ID,
  },
  update: {
    summary: "change a container's resource limits",
    args: "<container-id>",
    description: `${ID}\n\nWith --resources, the values come from a linux.resources JSON ` +
      `object (a file, or - for\nstandard input) and the value flags are ignored.`,
  },
};

/** The help of `command` (its flags from `specs`). */
export function commandHelp(
  command: string,
  specs: Record<string, FlagSpec>,
  name: string,
): string {
  const help = COMMAND_HELP[command];
  const lines = [
    "NAME:",
    `   ${name} ${command} - ${help?.summary ?? ""}`,
    "",
    "USAGE:",
    `   ${name} ${command}${Object.keys(specs).length > 0 ? " [command options]" : ""}${
      help?.args ? ` ${help.args}` : ""
    }`,
  ];
  if (help?.description) lines.push("", help.description);
  const options = Object.entries(specs).filter(([, s]) => s.help !== undefined);
  if (options.length > 0) {
    const labels = options.map(([flag, s]) => {
      const value = s.type === "string" ? " value" : "";
      return `--${flag}${value}${s.short ? `, -${s.short}${value}` : ""}`;
    });
    const width = Math.max(...labels.map((l) => l.length));
    lines.push("", "OPTIONS:");
    options.forEach(([, s], i) => lines.push(`   ${labels[i].padEnd(width)}  ${s.help}`));
  }
  return lines.join("\n") + "\n";
}

/** The program's help (`-h`). */
export function mainHelp(version: string, name: string): string {
  const commands = Object.entries(COMMAND_HELP).map(([c, h]) => `   ${c.padEnd(11)} ${h.summary}`);
  return `NAME:
   ${name} - Open Container Initiative runtime (cell, a container runtime for Deno)

cell runs containers from OCI bundles (a config.json and a root filesystem) with
the command line of runc. Every decision is TypeScript; the kernel work is done by a
small native library written in Zig.

USAGE:
   ${name} [global options] command [command options] [arguments...]

VERSION:
   ${version}

COMMANDS:
${commands.join("\n")}
   help, h     show the help of the program or of a command

GLOBAL OPTIONS:
   --debug             write debug lines to the log
   --log value         the log file (default: standard error)
   --log-format value  the log's format: text or json (default: "text")
   --root value        the state root (default: /run/cell; $XDG_RUNTIME_DIR/cell when not root)
   --criu value        the criu binary for checkpoint and restore (default: "criu")
   --systemd-cgroup    the systemd cgroup driver (refused: cell manages cgroups itself)
   --rootless value    accepted for runc's sake ("auto", "true", "false"); rootless is automatic
   --help, -h          show this help
   --version, -v       print the version
`;
}
