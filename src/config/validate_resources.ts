/**
 * Validation of `linux.resources`: syntax and ranges. What depends on the host (which CPUs
 * exist, which huge page sizes, cgroup v1 or v2) is checked where the values are applied,
 * in `src/cgroups/`. Internal to `src/config/`.
 *
 * @module
 */

import { CPU_LIST } from "./cpu_list.ts";
import {
  addProblem,
  assignDefined,
  expectBoolean,
  expectInteger,
  expectObject,
  expectObjectList,
  expectString,
  expectStringMap,
  field,
  type JsonObject,
  keyPath,
  optional,
  type Problems,
  rejectFields,
} from "./problems.ts";
import type {
  BlockIOResources,
  CpuResources,
  MemoryResources,
  NetworkResources,
  RdmaLimit,
  Resources,
  ThrottleDevice,
  WeightDevice,
} from "./types.ts";
import { validateDeviceRules } from "./validate_devices.ts";

const MAX = Number.MAX_SAFE_INTEGER;
const MAX_DEVICE_NUMBER = 2 ** 32 - 1;
const PAGE_SIZE = /^\d+(KB|MB|GB)$/;
/** A cgroup v2 interface file name such as "memory.high" (never a path). */
const UNIFIED_KEY = /^[a-z0-9_]+\.[a-z0-9_.]+$/;
/** An RDMA device name as rdma.max takes it: no white space (it separates the fields). */
const RDMA_DEVICE = /^[^/\s]{1,63}$/;
/** The kernel parses rdma.max values as a C int: 2^31 - 1 is the most (it reads back "max"). */
const RDMA_MAX = 2 ** 31 - 1;
/** A network interface name (IFNAMSIZ - 1 bytes, no "/", ":" or white space). */
const IFNAME = /^[^/:\s]{1,15}$/;

/** Checks `linux.resources` and returns a normalized copy, recording every problem. */
export function validateResources(problems: Problems, value: unknown): Resources | undefined {
  const path = "linux.resources";
  const object = expectObject(problems, path, value);
  if (object === undefined) return undefined;
  const resources: Resources = {
    devices: validateDeviceRules(problems, field(object, "devices")),
  };
  return assignDefined(resources, {
    memory: optional(field(object, "memory"), (v) => checkMemory(problems, v)),
    cpu: optional(field(object, "cpu"), (v) => checkCpu(problems, v)),
    pids: optional(field(object, "pids"), (v) => checkPids(problems, v)),
    blockIO: optional(field(object, "blockIO"), (v) => checkBlockIO(problems, v)),
    hugepageLimits: optional(
      field(object, "hugepageLimits"),
      (v) => expectObjectList(problems, keyPath(path, "hugepageLimits"), v, checkHugepage),
    ),
    unified: optional(field(object, "unified"), (v) => checkUnified(problems, v)),
    network: optional(field(object, "network"), (v) => checkNetwork(problems, v)),
    rdma: optional(field(object, "rdma"), (v) => checkRdma(problems, v)),
  });
}

/** -1 (unlimited) or an integer from `min`. */
function limit(problems: Problems, path: string, value: unknown, min: number): number | undefined {
  if (value === -1) return -1;
  return expectInteger(
    problems,
    path,
    value,
    min,
    MAX,
    `must be -1 (unlimited) or an integer from ${min}`,
  );
}

function checkMemory(problems: Problems, value: unknown): MemoryResources | undefined {
  const path = "linux.resources.memory";
  const object = expectObject(problems, path, value);
  if (object === undefined) return undefined;
  rejectFields(problems, object, path, ["kernel"], "not supported (deprecated)");
  const get = (key: string) => field(object, key);
  const memory = assignDefined<MemoryResources>({}, {
    limit: optional(get("limit"), (v) => limit(problems, keyPath(path, "limit"), v, 4096)),
    reservation: optional(
      get("reservation"),
      (v) => limit(problems, keyPath(path, "reservation"), v, 0),
    ),
    swap: optional(get("swap"), (v) => limit(problems, keyPath(path, "swap"), v, 4096)),
    swappiness: optional(
      get("swappiness"),
      (v) => expectInteger(problems, keyPath(path, "swappiness"), v, 0, 100),
    ),
    disableOOMKiller: optional(
      get("disableOOMKiller"),
      (v) => expectBoolean(problems, keyPath(path, "disableOOMKiller"), v),
    ),
    kernelTCP: optional(get("kernelTCP"), (v) => limit(problems, keyPath(path, "kernelTCP"), v, 0)),
  });
  const { limit: max, swap } = memory;
  if (max !== undefined && swap !== undefined && max !== -1 && swap !== -1 && swap < max) {
    addProblem(
      problems,
      keyPath(path, "swap"),
      "must be at least limit (it counts memory plus swap)",
    );
  }
  return memory;
}

function checkCpu(problems: Problems, value: unknown): CpuResources | undefined {
  const path = "linux.resources.cpu";
  const object = expectObject(problems, path, value);
  if (object === undefined) return undefined;
  const get = (key: string) => field(object, key);
  const cpuList = (key: string) =>
    optional(get(key), (v) => {
      const text = expectString(problems, keyPath(path, key), v);
      if (text === undefined || CPU_LIST.test(text)) return text;
      addProblem(
        problems,
        keyPath(path, key),
        `must be a list such as "0-3,5", not ${JSON.stringify(text)}`,
      );
      return undefined;
    });
  return assignDefined<CpuResources>({}, {
    shares: optional(
      get("shares"),
      (v) => expectInteger(problems, keyPath(path, "shares"), v, 2, 262144),
    ),
    quota: optional(get("quota"), (v) => limit(problems, keyPath(path, "quota"), v, 1000)),
    period: optional(
      get("period"),
      (v) => expectInteger(problems, keyPath(path, "period"), v, 1000, 1000000),
    ),
    cpus: cpuList("cpus"),
    mems: cpuList("mems"),
    idle: optional(get("idle"), (v) => expectInteger(problems, keyPath(path, "idle"), v, 0, 1)),
    realtimeRuntime: optional(
      get("realtimeRuntime"),
      (v) => limit(problems, keyPath(path, "realtimeRuntime"), v, 0),
    ),
    realtimePeriod: optional(
      get("realtimePeriod"),
      (v) => expectInteger(problems, keyPath(path, "realtimePeriod"), v, 1, MAX),
    ),
  });
}

function checkPids(problems: Problems, value: unknown): { limit?: number } | undefined {
  const path = "linux.resources.pids";
  const object = expectObject(problems, path, value);
  if (object === undefined) return undefined;
  const raw = field(object, "limit");
  // runtime-spec 1.3: the limit may be left out (nothing written), and 0 is a real limit (no
  // process may fork), not "unlimited" as runc once read it.
  if (raw === undefined) return {};
  const pids = limit(problems, keyPath(path, "limit"), raw, 0);
  return pids === undefined ? undefined : { limit: pids };
}

function checkBlockIO(problems: Problems, value: unknown): BlockIOResources | undefined {
  const path = "linux.resources.blockIO";
  const object = expectObject(problems, path, value);
  if (object === undefined) return undefined;
  const get = (key: string) => field(object, key);
  const weight = (key: string) =>
    optional(get(key), (v) => expectInteger(problems, keyPath(path, key), v, 10, 1000));
  const throttles = (key: string) =>
    optional(get(key), (v) => expectObjectList(problems, keyPath(path, key), v, checkThrottle));
  return assignDefined<BlockIOResources>({}, {
    weight: weight("weight"),
    leafWeight: weight("leafWeight"),
    weightDevice: optional(
      get("weightDevice"),
      (v) => expectObjectList(problems, keyPath(path, "weightDevice"), v, checkWeightDevice),
    ),
    throttleReadBpsDevice: throttles("throttleReadBpsDevice"),
    throttleWriteBpsDevice: throttles("throttleWriteBpsDevice"),
    throttleReadIOPSDevice: throttles("throttleReadIOPSDevice"),
    throttleWriteIOPSDevice: throttles("throttleWriteIOPSDevice"),
  });
}

function deviceNumbers(problems: Problems, path: string, object: JsonObject) {
  const major = expectInteger(
    problems,
    keyPath(path, "major"),
    field(object, "major"),
    0,
    MAX_DEVICE_NUMBER,
  );
  const minor = expectInteger(
    problems,
    keyPath(path, "minor"),
    field(object, "minor"),
    0,
    MAX_DEVICE_NUMBER,
  );
  return major === undefined || minor === undefined ? undefined : { major, minor };
}

function checkWeightDevice(
  problems: Problems,
  path: string,
  object: JsonObject,
): WeightDevice | undefined {
  const device = deviceNumbers(problems, path, object);
  const weight = (key: string) =>
    optional(field(object, key), (v) => expectInteger(problems, keyPath(path, key), v, 10, 1000));
  const out = device && assignDefined<WeightDevice>(device, {
    weight: weight("weight"),
    leafWeight: weight("leafWeight"),
  });
  return out;
}

function checkThrottle(
  problems: Problems,
  path: string,
  object: JsonObject,
): ThrottleDevice | undefined {
  const device = deviceNumbers(problems, path, object);
  const rate = expectInteger(problems, keyPath(path, "rate"), field(object, "rate"), 0, MAX);
  return device && rate !== undefined ? { ...device, rate } : undefined;
}

function checkHugepage(
  problems: Problems,
  path: string,
  object: JsonObject,
): { pageSize: string; limit: number } | undefined {
  const pageSize = expectString(problems, keyPath(path, "pageSize"), field(object, "pageSize"));
  if (pageSize !== undefined && !PAGE_SIZE.test(pageSize)) {
    addProblem(problems, keyPath(path, "pageSize"), `must be a size such as "2MB" or "1GB"`);
    return undefined;
  }
  const max = expectInteger(problems, keyPath(path, "limit"), field(object, "limit"), 0, MAX);
  return pageSize !== undefined && max !== undefined ? { pageSize, limit: max } : undefined;
}

function checkNetwork(problems: Problems, value: unknown): NetworkResources | undefined {
  const path = "linux.resources.network";
  const object = expectObject(problems, path, value);
  if (object === undefined) return undefined;
  return assignDefined<NetworkResources>({}, {
    classID: optional(
      field(object, "classID"),
      (v) => expectInteger(problems, keyPath(path, "classID"), v, 0, 2 ** 32 - 1),
    ),
    priorities: optional(
      field(object, "priorities"),
      (v) => expectObjectList(problems, keyPath(path, "priorities"), v, checkPriority),
    ),
  });
}

function checkPriority(
  problems: Problems,
  path: string,
  object: JsonObject,
): { name: string; priority: number } | undefined {
  const name = expectString(problems, keyPath(path, "name"), field(object, "name"));
  if (name !== undefined && !IFNAME.test(name)) {
    addProblem(problems, keyPath(path, "name"), "must be a network interface name");
    return undefined;
  }
  const priority = expectInteger(
    problems,
    keyPath(path, "priority"),
    field(object, "priority"),
    0,
    2 ** 32 - 1,
  );
  return name !== undefined && priority !== undefined ? { name, priority } : undefined;
}

function checkUnified(problems: Problems, value: unknown): Record<string, string> | undefined {
  const path = "linux.resources.unified";
  const map = expectStringMap(problems, path, value);
  if (map === undefined) return undefined;
  for (const key of Object.keys(map)) {
    if (!UNIFIED_KEY.test(key)) {
      addProblem(problems, keyPath(path, key), 'must be a cgroup file name such as "memory.high"');
    }
  }
  return map;
}

/** `rdma`: per device name, hcaHandles and/or hcaObjects (at least one). */
function checkRdma(problems: Problems, value: unknown): Record<string, RdmaLimit> | undefined {
  const path = "linux.resources.rdma";
  const object = expectObject(problems, path, value);
  if (object === undefined) return undefined;
  const out: Record<string, RdmaLimit> = {};
  for (const [device, entry] of Object.entries(object)) {
    const at = keyPath(path, device);
    if (!RDMA_DEVICE.test(device)) {
      addProblem(problems, at, "must be an RDMA device name (1 to 63 characters, no white space)");
      continue;
    }
    const limits = expectObject(problems, at, entry);
    if (limits === undefined) continue;
    const count = (key: string) =>
      optional(
        field(limits, key),
        (v) =>
          expectInteger(
            problems,
            keyPath(at, key),
            v,
            0,
            RDMA_MAX,
            `must be an integer from 0 to ${RDMA_MAX} (the kernel's largest)`,
          ),
      );
    const limit = assignDefined<RdmaLimit>({}, {
      hcaHandles: count("hcaHandles"),
      hcaObjects: count("hcaObjects"),
    });
    if (field(limits, "hcaHandles") === undefined && field(limits, "hcaObjects") === undefined) {
      addProblem(problems, at, "needs hcaHandles, hcaObjects or both");
      continue;
    }
    out[device] = limit;
  }
  return out;
}
