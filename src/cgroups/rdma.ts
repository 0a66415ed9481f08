/**
 * The rdma controller's files, the same on cgroup v1 and v2: `linux.resources.rdma` as
 * rdma.max lines, and rdma.max / rdma.current read back for `stats()`. The lines are
 * `<device> hca_handle=N hca_object=M`, one write per device. A key the config leaves out
 * is not written, and the kernel keeps what is in force for it: "max" in a new cgroup, the
 * value set before on `update` (as the state's field-by-field merge records).
 *
 * @module
 */

import { keyPath } from "../config/problems.ts";
import type { Resources } from "../config/types.ts";
import { ContainerError } from "../errors.ts";
import type { CgroupWrite } from "./writes.ts";
import { type CgroupStats, type RdmaEntry, readOptional, UNLIMITED } from "./stats.ts";

const FIELD = "linux.resources.rdma";

/** The rdma.max writes of `r` in the cgroup directory `dir` (v1 rdma hierarchy or v2). */
export function planRdma(r: Resources, dir: string): CgroupWrite[] {
  return Object.entries(r.rdma ?? {}).map(([device, limit]) => {
    const words = [device];
    if (limit.hcaHandles !== undefined) words.push(`hca_handle=${limit.hcaHandles}`);
    if (limit.hcaObjects !== undefined) words.push(`hca_object=${limit.hcaObjects}`);
    const field = keyPath(FIELD, device);
    return {
      file: `${dir}/rdma.max`,
      value: words.join(" "),
      field,
      // rdma.max reads one "<device> hca_handle=.. hca_object=.." line per device.
      key: { name: device, reset: `${device} hca_handle=max hca_object=max` },
      noDevice: `${field}: this host has no RDMA device "${device}" ` +
        "(the rdma controller knows only the devices in /sys/class/infiniband)",
    };
  });
}

/**
 * The error for rdma limits on a host whose rdma controller cannot be used: not built into
 * the kernel (`/proc/cgroups` has no rdma line), or not where the container's cgroup is.
 */
export function rdmaUnavailable(where: string, procCgroups = readProcCgroups()): ContainerError {
  const why = hostHasRdmaController(procCgroups)
    ? `the rdma cgroup controller is not available ${where}`
    : "this host lacks the rdma cgroup controller (the kernel is built without CONFIG_CGROUP_RDMA)";
  return new ContainerError("ConfigInvalid", `${FIELD}: ${why}`);
}

function readProcCgroups(): string {
  try {
    return Deno.readTextFileSync("/proc/cgroups");
  } catch {
    return "";
  }
}

/** Whether this kernel has the rdma cgroup controller (a line in /proc/cgroups). */
export function hostHasRdmaController(procCgroups = readProcCgroups()): boolean {
  return /^rdma\s/m.test(procCgroups);
}

/** rdma.max or rdma.current text as entries ("max" → {@linkcode UNLIMITED}); bad lines skipped. */
export function parseRdma(text: string | undefined): RdmaEntry[] {
  const out: RdmaEntry[] = [];
  for (const line of (text ?? "").split("\n")) {
    const [device, ...fields] = line.trim().split(/\s+/);
    if (!device || fields.length === 0) continue;
    const values: Record<string, number> = {};
    for (const field of fields) {
      const [key, value] = field.split("=");
      const n = value === "max" ? UNLIMITED : Number(value);
      if (key && value !== undefined && Number.isInteger(n)) values[key] = n;
    }
    if (values.hca_handle === undefined || values.hca_object === undefined) continue;
    out.push({ device, hcaHandles: values.hca_handle, hcaObjects: values.hca_object });
  }
  return out;
}

/** The rdma stats of the cgroup directory `dir` (v1 rdma hierarchy or v2). */
export function readRdma(dir: string): CgroupStats["rdma"] {
  return {
    limit: parseRdma(readOptional(`${dir}/rdma.max`)),
    current: parseRdma(readOptional(`${dir}/rdma.current`)),
  };
}
