/**
 * Pressure stall information (PSI) and the misc controller of a cgroup v2 directory:
 * `cpu.pressure`, `memory.pressure`, `io.pressure` ("some avg10=0.00 avg60=0.00
 * avg300=0.00 total=0", and a "full" line), `misc.current` and `misc.events`. PSI files
 * exist in every cgroup2 directory of a kernel built with PSI and booted without `psi=0`.
 *
 * @module
 */

import { parseNumber, readOptional } from "./stats.ts";

/** One PSI line: the share of time some (or all) tasks stalled, and the total stall. */
export interface PressureLine {
  /** Percent of the last 10 s. */
  avg10: number;
  /** Percent of the last 60 s. */
  avg60: number;
  /** Percent of the last 300 s. */
  avg300: number;
  /** Total stall time, in microseconds. */
  totalUs: number;
}

/** A resource's pressure: `some` tasks stalled, and (memory, io, cpu since 5.13) `full`. */
export interface Pressure {
  /** Time in which at least one task stalled. */
  some: PressureLine;
  /** Time in which every non-idle task stalled; absent when the kernel has no such line. */
  full?: PressureLine;
}

/** A PSI file's text into its lines; undefined when the text has no "some" line. */
export function parsePressure(text: string | undefined): Pressure | undefined {
  if (text === undefined) return undefined;
  const lines: Record<string, PressureLine> = {};
  for (const line of text.split("\n")) {
    const [kind, ...fields] = line.trim().split(/\s+/);
    if (kind !== "some" && kind !== "full") continue;
    const values: Record<string, string> = {};
    for (const field of fields) {
      const eq = field.indexOf("=");
      if (eq > 0) values[field.slice(0, eq)] = field.slice(eq + 1);
    }
    lines[kind] = {
      avg10: Number(values.avg10 ?? 0) || 0,
      avg60: Number(values.avg60 ?? 0) || 0,
      avg300: Number(values.avg300 ?? 0) || 0,
      totalUs: parseNumber(values.total ?? "0"),
    };
  }
  if (!lines.some) return undefined;
  return lines.full ? { some: lines.some, full: lines.full } : { some: lines.some };
}

/** The cpu, memory and io pressure of a cgroup2 directory (each absent without PSI). */
export function readPressure(dir: string): { cpu?: Pressure; memory?: Pressure; io?: Pressure } {
  const out: { cpu?: Pressure; memory?: Pressure; io?: Pressure } = {};
  for (const resource of ["cpu", "memory", "io"] as const) {
    const pressure = parsePressure(readOptional(`${dir}/${resource}.pressure`));
    if (pressure) out[resource] = pressure;
  }
  return out;
}

/** One misc resource (e.g. "sev", "sev_es"): its use and how often its max refused it. */
export interface MiscStats {
  /** Units in use now (`misc.current`). */
  current: number;
  /** Times an allocation was refused by `misc.max` (`misc.events` "max"). */
  events: number;
}

/** `misc.current` ("res N" per line) and `misc.events` into a record by resource. */
export function parseMisc(
  current: string | undefined,
  events: string | undefined,
): Record<string, MiscStats> {
  const out: Record<string, MiscStats> = {};
  for (const line of (current ?? "").split("\n")) {
    const [name, value] = line.trim().split(/\s+/);
    if (name && value !== undefined) out[name] = { current: parseNumber(value), events: 0 };
  }
  // misc.events: "<res>.max N" per resource.
  for (const line of (events ?? "").split("\n")) {
    const [key, value] = line.trim().split(/\s+/);
    const dot = key?.lastIndexOf(".") ?? -1;
    const name = key?.slice(0, dot);
    if (dot > 0 && key.slice(dot + 1) === "max" && value !== undefined && out[name]) {
      out[name].events = parseNumber(value);
    }
  }
  return out;
}

/** The misc controller's resources of a cgroup2 directory ({} without the controller). */
export function readMisc(dir: string): Record<string, MiscStats> {
  return parseMisc(readOptional(`${dir}/misc.current`), readOptional(`${dir}/misc.events`));
}
