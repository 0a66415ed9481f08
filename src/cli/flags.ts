/**
 * Flag parsing shaped like runc's (urfave/cli 1.22 over Go's `flag` package). First the
 * arguments are reordered as urfave/cli does for most commands: every argument that starts
 * with `-` moves to the front, taking the argument after it along as its value when it has
 * no `=` (so `update ID --memory 1m` is `update --memory 1m ID`), up to a `--`. Then flags
 * are read up to the first positional or `--`. `exec` and `ps` skip the reordering, so
 * `exec ID sh -c x` keeps `-c` for the command. `--name value`, `--name=value`,
 * `-name value` and boolean `-d` work; a string flag may repeat when declared `multiple`.
 * `-h`/`--help` is a flag of every command: {@linkcode HelpRequested}.
 *
 * @module
 */

import { ContainerError } from "../../mod.ts";

/** One flag's declaration. */
export interface FlagSpec {
  /** "boolean" takes no value; "string" takes one. */
  type: "boolean" | "string";
  /** A one-letter alias. */
  short?: string;
  /** Collect every use into an array. */
  multiple?: boolean;
  /** One line for the command's help. */
  help?: string;
}

/** Parsed flags and the positionals after them. */
export interface Parsed {
  /** Flag values by name: boolean, string, or string[] for `multiple`. */
  values: Record<string, boolean | string | string[] | undefined>;
  /** Everything from the first positional on. */
  positionals: string[];
  /** The flags the command declared (for its help). */
  specs: Record<string, FlagSpec>;
}

/** How to parse. */
export interface ParseOptions {
  /** Move flags after positionals to the front, as urfave/cli does (default true). */
  reorder?: boolean;
}

/** A usage error: the CLI prints the message and the command's help, and exits 1. */
export class UsageError extends ContainerError {
  /** The flags of the command, when known (its help is printed with the error). */
  readonly specs?: Record<string, FlagSpec>;

  /** A usage error with a message. */
  constructor(message: string, specs?: Record<string, FlagSpec>) {
    super("ConfigInvalid", message);
    this.name = "UsageError";
    this.specs = specs;
  }
}

/** `-h` or `--help` was given: the CLI prints the command's help and exits 0. */
export class HelpRequested extends Error {
  /** The flags of the command whose help is wanted. */
  readonly specs: Record<string, FlagSpec>;

  /** For a command with these flags. */
  constructor(specs: Record<string, FlagSpec>) {
    super("help requested");
    this.name = "HelpRequested";
    this.specs = specs;
  }
}

/** urfave/cli 1.22's argument reordering (see the module doc). */
export function reorderArgs(args: readonly string[]): string[] {
  const flags: string[] = [];
  const rest: string[] = [];
  let takesValue = false;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") {
      rest.push(...args.slice(i));
      break;
    }
    if (takesValue && !arg.startsWith("-")) {
      takesValue = false;
      flags.push(arg);
      continue;
    }
    takesValue = false;
    if (arg !== "-" && arg.startsWith("-")) {
      flags.push(arg);
      takesValue = !arg.includes("=");
    } else {
      rest.push(arg);
    }
  }
  return [...flags, ...rest];
}

/**
 * Parses `args` against `specs`; throws UsageError for an unknown flag or a missing value,
 * HelpRequested for `-h`/`--help`.
 */
export function parseFlags(
  args: readonly string[],
  specs: Record<string, FlagSpec>,
  options: ParseOptions = {},
): Parsed {
  const ordered = options.reorder === false ? args : reorderArgs(args);
  const byShort = new Map(
    Object.entries(specs).filter(([, s]) => s.short).map(([n, s]) => [s.short as string, n]),
  );
  const values: Parsed["values"] = {};
  let i = 0;
  for (; i < ordered.length; i++) {
    const arg = ordered[i];
    if (arg === "--") {
      i++;
      break;
    }
    if (!arg.startsWith("-") || arg === "-") break;
    const long = arg.startsWith("--");
    const body = arg.slice(long ? 2 : 1);
    const eq = body.indexOf("=");
    const key = eq < 0 ? body : body.slice(0, eq);
    const name = specs[key] ? key : byShort.get(key);
    const spec = name === undefined ? undefined : specs[name];
    if (!spec || name === undefined) {
      if (key === "h" || key === "help") throw new HelpRequested(specs);
      throw new UsageError(`flag provided but not defined: ${arg}`, specs);
    }
    if (spec.type === "boolean") {
      values[name] = eq < 0 ? true : goBool(body.slice(eq + 1), key);
      continue;
    }
    let value: string;
    if (eq >= 0) value = body.slice(eq + 1);
    else {
      if (i + 1 >= ordered.length) {
        throw new UsageError(`flag needs an argument: -${key}`, specs);
      }
      value = ordered[++i];
    }
    if (spec.multiple) values[name] = [...(values[name] as string[] | undefined ?? []), value];
    else values[name] = value;
  }
  return { values, positionals: ordered.slice(i), specs };
}

/** Go's strconv.ParseBool, as the flag package uses it for `-flag=value`. */
function goBool(text: string, key: string): boolean {
  if (["1", "t", "T", "true", "TRUE", "True"].includes(text)) return true;
  if (["0", "f", "F", "false", "FALSE", "False"].includes(text)) return false;
  throw new UsageError(`invalid boolean value "${text}" for -${key}: parse error`);
}

/** A string flag's value, or `fallback`. */
export function str(parsed: Parsed, name: string, fallback?: string): string | undefined {
  const v = parsed.values[name];
  return typeof v === "string" ? v : fallback;
}

/** A boolean flag's value. */
export function bool(parsed: Parsed, name: string): boolean {
  return parsed.values[name] === true;
}

/** A repeated string flag's values. */
export function list(parsed: Parsed, name: string): string[] {
  const v = parsed.values[name];
  return Array.isArray(v) ? v : [];
}

/** A non-negative integer flag, or `fallback`; UsageError when it is not one. */
export function int(parsed: Parsed, name: string, fallback: number): number {
  const v = str(parsed, name);
  if (v === undefined) return fallback;
  if (!/^\d+$/.test(v)) throw new UsageError(`invalid value "${v}" for flag -${name}: parse error`);
  return Number(v);
}

/** How many positionals a command takes, as runc's checkArgs counts them. */
export type ArgCount = { exactly: number } | { atLeast: number; atMost?: number };

/** The positionals, checked against `count` for `command`; else a UsageError. */
export function args(parsed: Parsed, count: ArgCount, command: string): string[] {
  const n = parsed.positionals.length;
  let wrong: string | undefined;
  if ("exactly" in count) {
    if (n !== count.exactly) wrong = `requires exactly ${count.exactly} argument(s)`;
  } else if (n < count.atLeast) wrong = `requires a minimum of ${count.atLeast} argument(s)`;
  else if (count.atMost !== undefined && n > count.atMost) {
    wrong = `requires a maximum of ${count.atMost} argument(s)`;
  }
  if (wrong) throw new UsageError(`"${command}" ${wrong}`, parsed.specs);
  return parsed.positionals;
}
