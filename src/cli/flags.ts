/**
 * Flag parsing shaped like runc's (urfave/cli): flags come before the positionals, and
 * parsing stops at the first positional or at `--`, so `exec ID sh -c x` keeps `-c`
 * for the command. `--name value`, `--name=value`, `-n value` and boolean `-d` work;
 * a string flag may repeat when declared `multiple`.
 *
 * @module
 */

import { ContainerError } from "../errors.ts";

/** One flag's declaration. */
export interface FlagSpec {
  /** "boolean" takes no value; "string" takes one. */
  type: "boolean" | "string";
  /** A one-letter alias. */
  short?: string;
  /** Collect every use into an array. */
  multiple?: boolean;
}

/** Parsed flags and the positionals after them. */
export interface Parsed {
  /** Flag values by name: boolean, string, or string[] for `multiple`. */
  values: Record<string, boolean | string | string[] | undefined>;
  /** Everything from the first positional on. */
  positionals: string[];
}

/** A usage error: the CLI prints the message and the command's usage, and exits 1. */
export class UsageError extends ContainerError {
  /** A usage error with a message. */
  constructor(message: string) {
    super("ConfigInvalid", message);
    this.name = "UsageError";
  }
}

/** Parses `args` against `specs`; throws UsageError for an unknown flag or a missing value. */
export function parseFlags(args: readonly string[], specs: Record<string, FlagSpec>): Parsed {
  const byShort = new Map(
    Object.entries(specs).filter(([, s]) => s.short).map(([n, s]) => [s.short as string, n]),
  );
  const values: Parsed["values"] = {};
  let i = 0;
  for (; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") {
      i++;
      break;
    }
    if (!arg.startsWith("-") || arg === "-") break;
    const long = arg.startsWith("--");
    const body = arg.slice(long ? 2 : 1);
    const eq = body.indexOf("=");
    const key = eq < 0 ? body : body.slice(0, eq);
    const name = long || key.length > 1 ? key : byShort.get(key);
    const spec = name === undefined ? undefined : specs[name];
    if (!spec || name === undefined) throw new UsageError(`flag provided but not defined: ${arg}`);
    if (spec.type === "boolean") {
      values[name] = eq < 0 ? true : !["false", "0"].includes(body.slice(eq + 1));
      continue;
    }
    let value: string;
    if (eq >= 0) value = body.slice(eq + 1);
    else {
      if (i + 1 >= args.length) throw new UsageError(`flag needs an argument: ${arg}`);
      value = args[++i];
    }
    if (spec.multiple) values[name] = [...(values[name] as string[] | undefined ?? []), value];
    else values[name] = value;
  }
  return { values, positionals: args.slice(i) };
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
  if (!/^\d+$/.test(v)) throw new UsageError(`invalid value "${v}" for flag --${name}`);
  return Number(v);
}

/** Exactly `count` positionals (the container id first), else a UsageError. */
export function need(parsed: Parsed, count: number, usage: string): string[] {
  if (parsed.positionals.length < count) {
    throw new UsageError(
      `"${usage.split(" ")[0]}" requires ${
        count === 1 ? "an argument" : `${count} arguments`
      }\nusage: cell ${usage}`,
    );
  }
  return parsed.positionals;
}
