/**
 * `update ID`: new resource limits from `--resources FILE` (or `-` for stdin, an OCI
 * `linux.resources` object) and runc's per-value flags.
 *
 * @module
 */

import { ContainerError, type Resources } from "../../../mod.ts";
import type { Command } from "../context.ts";
import { callerPath, type CliIo } from "../io.ts";
import { args, type Parsed, parseFlags, str } from "../flags.ts";

const VALUE_FLAGS = {
  resources: {
    type: "string",
    short: "r",
    help: "a linux.resources JSON object: a file, or - for standard input",
  },
  "blkio-weight": { type: "string", help: "block I/O weight, 10 to 1000" },
  "cpu-period": { type: "string", help: "CFS period (µs)" },
  "cpu-quota": { type: "string", help: "CFS quota (µs) per period; -1: none" },
  "cpu-share": { type: "string", help: "CPU shares (relative weight)" },
  "cpu-shares": { type: "string" },
  "cpu-rt-period": { type: "string", help: "real-time period (µs)" },
  "cpu-rt-runtime": { type: "string", help: "real-time runtime (µs) per period" },
  "cpuset-cpus": { type: "string", help: "CPUs to use (0-3,5)" },
  "cpuset-mems": { type: "string", help: "memory nodes to use" },
  "kernel-memory": { type: "string" },
  "kernel-memory-tcp": { type: "string" },
  memory: { type: "string", short: "m", help: "memory limit (bytes, or 64m, 1g); -1: none" },
  "memory-reservation": { type: "string", help: "memory soft limit" },
  "memory-swap": { type: "string", help: "memory + swap limit; -1: none" },
  "pids-limit": { type: "string", help: "most processes at once; -1: none" },
  "l3-cache-schema": {
    type: "string",
    help: "Intel RDT L3 cache schema (not supported: linux.intelRdt is set at create)",
  },
  "mem-bw-schema": {
    type: "string",
    help: "Intel RDT memory bandwidth schema (not supported: linux.intelRdt is set at create)",
  },
} as const;

/** `update [flags] ID`. */
export const update: Command = async (ctx, argv) => {
  const p = parseFlags(argv, VALUE_FLAGS);
  const [id] = args(p, { exactly: 1 }, "update");
  const container = await ctx.factory.load(id);
  const file = str(p, "resources");
  const resources = file !== undefined ? await readResources(ctx.io, file) : fromFlags(p);
  await container.update(resources);
  return 0;
};

async function readResources(io: CliIo, file: string): Promise<unknown> {
  const text = file === "-" ? await io.readStdin() : Deno.readTextFileSync(callerPath(io, file));
  try {
    return JSON.parse(text);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new ContainerError("ConfigInvalid", `--resources ${file}: ${why}`);
  }
}

function fromFlags(p: Parsed): Resources {
  for (const name of ["l3-cache-schema", "mem-bw-schema", "kernel-memory", "kernel-memory-tcp"]) {
    if (str(p, name) !== undefined) {
      // cell changes a container's resctrl schemata only at create (linux.intelRdt).
      const why = name.includes("schema") ? " (linux.intelRdt is set at create)" : "";
      throw new ContainerError("ConfigInvalid", `--${name} is not supported${why}`);
    }
  }
  const r: Resources = {};
  const bytes = (name: string) => {
    const v = str(p, name);
    return v === undefined ? undefined : parseBytes(v, name);
  };
  const num = (name: string) => {
    const v = str(p, name);
    if (v === undefined) return undefined;
    if (!/^-?\d+$/.test(v)) throw new ContainerError("ConfigInvalid", `invalid --${name} "${v}"`);
    return Number(v);
  };
  const memory = {
    limit: bytes("memory"),
    reservation: bytes("memory-reservation"),
    swap: bytes("memory-swap"),
  };
  if (Object.values(memory).some((v) => v !== undefined)) r.memory = prune(memory);
  const cpu = {
    shares: num("cpu-share") ?? num("cpu-shares"),
    quota: num("cpu-quota"),
    period: num("cpu-period"),
    realtimePeriod: num("cpu-rt-period"),
    realtimeRuntime: num("cpu-rt-runtime"),
    cpus: str(p, "cpuset-cpus"),
    mems: str(p, "cpuset-mems"),
  };
  if (Object.values(cpu).some((v) => v !== undefined)) r.cpu = prune(cpu);
  const pids = num("pids-limit");
  if (pids !== undefined) r.pids = { limit: pids };
  const weight = num("blkio-weight");
  if (weight !== undefined) r.blockIO = { weight };
  return r;
}

/** "64m", "1g", "1024", "-1" (unlimited) in bytes. */
function parseBytes(text: string, flag: string): number {
  if (text === "-1") return -1;
  const match = /^(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?$/i.exec(text);
  if (!match) throw new ContainerError("ConfigInvalid", `invalid --${flag} "${text}"`);
  const power = ["", "k", "m", "g", "t"].indexOf(match[2].toLowerCase());
  return Math.round(Number(match[1]) * 1024 ** power);
}

function prune<T extends Record<string, unknown>>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
