/**
 * `update ID`: new resource limits from `--resources FILE` (or `-` for stdin, an OCI
 * `linux.resources` object) and runc's per-value flags.
 *
 * @module
 */

import type { Resources } from "../../config/types.ts";
import { ContainerError } from "../../errors.ts";
import type { Command } from "../context.ts";
import { need, type Parsed, parseFlags, str } from "../flags.ts";

const VALUE_FLAGS = {
  resources: { type: "string", short: "r" },
  memory: { type: "string", short: "m" },
  "memory-reservation": { type: "string" },
  "memory-swap": { type: "string" },
  "kernel-memory": { type: "string" },
  "kernel-memory-tcp": { type: "string" },
  "cpu-shares": { type: "string" },
  "cpu-quota": { type: "string" },
  "cpu-period": { type: "string" },
  "cpu-rt-period": { type: "string" },
  "cpu-rt-runtime": { type: "string" },
  "cpuset-cpus": { type: "string" },
  "cpuset-mems": { type: "string" },
  "pids-limit": { type: "string" },
  "blkio-weight": { type: "string" },
  "l3-cache-schema": { type: "string" },
  "mem-bw-schema": { type: "string" },
} as const;

/** `update [flags] ID`. */
export const update: Command = async (ctx, args) => {
  const p = parseFlags(args, VALUE_FLAGS);
  const [id] = need(p, 1, "update [command options] <container-id>");
  const container = await ctx.factory.load(id);
  const file = str(p, "resources");
  const resources = file !== undefined ? await readResources(file) : fromFlags(p);
  await container.update(resources);
  return 0;
};

async function readResources(file: string): Promise<unknown> {
  const text = file === "-"
    ? await new Response(Deno.stdin.readable).text()
    : Deno.readTextFileSync(file);
  try {
    return JSON.parse(text);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new ContainerError("ConfigInvalid", `--resources ${file}: ${why}`);
  }
}

function fromFlags(p: Parsed): Resources {
  for (const name of ["cpu-rt-period", "cpu-rt-runtime", "l3-cache-schema", "mem-bw-schema"]) {
    if (str(p, name) !== undefined) {
      throw new ContainerError("ConfigInvalid", `--${name} is not supported`);
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
    shares: num("cpu-shares"),
    quota: num("cpu-quota"),
    period: num("cpu-period"),
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
