/**
 * Network counters of a container: /proc/<pid>/net/dev shows the interfaces of that
 * process's network namespace, so reading it through the container's init process needs
 * no setns. Cgroups do not count network traffic; this is the same on v1 and v2.
 *
 * @module
 */

import { ContainerError } from "../errors.ts";
import type { CgroupStats } from "./stats.ts";

/**
 * Parses the text of /proc/net/dev: two header lines, then per interface
 * "name: 8 receive counters 8 transmit counters" (bytes packets errs drop fifo frame
 * compressed multicast | bytes packets errs drop fifo colls carrier compressed). A wide
 * counter may touch the colon ("eth0:188799904"), and names cannot hold a colon.
 */
export function parseNetDev(text: string): CgroupStats["network"] {
  const out: CgroupStats["network"] = [];
  for (const line of text.split("\n")) {
    const colon = line.indexOf(":");
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim();
    const f = line.slice(colon + 1).trim().split(/\s+/).map(Number);
    if (name === "" || f.length < 16 || f.some((n) => !Number.isFinite(n))) continue;
    out.push({
      name,
      rxBytes: f[0],
      rxPackets: f[1],
      rxErrors: f[2],
      rxDropped: f[3],
      txBytes: f[8],
      txPackets: f[9],
      txErrors: f[10],
      txDropped: f[11],
    });
  }
  return out;
}

/**
 * Every interface (lo included) of the network namespace `initPid` is in, from
 * /proc/<initPid>/net/dev. [] when the process is gone (a zombie has no net directory).
 */
export function readNetDev(initPid: number): CgroupStats["network"] {
  const path = `/proc/${initPid}/net/dev`;
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    const code = (e as { code?: string }).code;
    if (code === "ESRCH" || code === "EINVAL") return [];
    const message = e instanceof Error ? e.message : String(e);
    throw new ContainerError("SystemError", `cannot read ${path}: ${message}`, {
      syscall: "read",
      path,
      cause: e,
    });
  }
  return parseNetDev(text);
}
