/**
 * Validation of the `linux` section of a container config (namespaces, id mappings, sysctl,
 * paths, propagation, cgroups path); devices and resources live in `validate_devices.ts`.
 * Internal to `src/config/`.
 *
 * @module
 */

import {
  addProblem,
  assignDefined,
  expectAbsolutePath,
  expectArray,
  expectInteger,
  expectObject,
  expectOneOf,
  expectString,
  expectStringArray,
  expectStringMap,
  field,
  indexPath,
  isSet,
  type JsonObject,
  keyPath,
  optional,
  type Problems,
} from "./problems.ts";
import { checkIdMappings, checkMapLength } from "./id_mappings.ts";
import { isSysctlName, sysctlNamespace } from "./sysctl.ts";
import {
  type Linux,
  MEMORY_POLICY_FLAGS,
  MEMORY_POLICY_MODES,
  type MemoryPolicy,
  type Namespace,
  NAMESPACE_TYPES,
  type NamespaceType,
  type Personality,
  PERSONALITY_DOMAINS,
  PROPAGATION_MODES,
  TIME_NAMESPACE_CLOCKS,
  type TimeOffset,
  type TimeOffsets,
} from "./types.ts";
import { validateDevices } from "./validate_devices.ts";
import { validateNetDevices } from "./validate_net_devices.ts";
import { validateResources } from "./validate_resources.ts";
import { validateIntelRdt } from "./validate_intel_rdt.ts";
import { validateSeccomp } from "./validate_seccomp.ts";
import { checkCpuList, lsmEnabled } from "./validate_process.ts";

/** KTIME_SEC_MAX: the kernel refuses a time namespace offset of more seconds (ERANGE). */
const MAX_OFFSET_SECS = 9_223_372_036;

/**
 * Checks `linux` and returns a normalized copy in which namespaces, id mappings, masked and
 * read-only paths and devices are always arrays, recording every problem.
 */
export function validateLinux(problems: Problems, value: unknown): Linux {
  const path = "linux";
  const object = optional(value, (v) => expectObject(problems, path, v)) ?? {};

  const namespaces = checkNamespaces(problems, field(object, "namespaces"));
  const uidMappings = checkIdMappings(problems, "linux.uidMappings", field(object, "uidMappings"));
  const gidMappings = checkIdMappings(problems, "linux.gidMappings", field(object, "gidMappings"));
  checkMapLength(problems, "linux.uidMappings", uidMappings);
  checkMapLength(problems, "linux.gidMappings", gidMappings);
  checkUserNamespace(problems, object, namespaces);
  const sysctl = optional(field(object, "sysctl"), (v) => checkSysctl(problems, v, namespaces));
  const maskedPaths = checkPaths(problems, "linux.maskedPaths", field(object, "maskedPaths"));
  const readonlyPaths = checkPaths(problems, "linux.readonlyPaths", field(object, "readonlyPaths"));
  const rootfsPropagation = optional(
    field(object, "rootfsPropagation"),
    (v) => expectOneOf(problems, "linux.rootfsPropagation", v, PROPAGATION_MODES),
  );
  const cgroupsPath = optional(field(object, "cgroupsPath"), (v) => checkCgroupsPath(problems, v));
  const devices = validateDevices(problems, field(object, "devices"));
  const resources = optional(field(object, "resources"), (v) => validateResources(problems, v));
  const seccomp = optional(field(object, "seccomp"), (v) => validateSeccomp(problems, v));
  checkMountLabel(problems, field(object, "mountLabel"));
  const personality = optional(
    field(object, "personality"),
    (v) => checkPersonality(problems, v),
  );
  const memoryPolicy = optional(
    field(object, "memoryPolicy"),
    (v) => checkMemoryPolicy(problems, v),
  );
  const timeOffsets = optional(
    field(object, "timeOffsets"),
    (v) => checkTimeOffsets(problems, v, namespaces),
  );
  const intelRdt = optional(field(object, "intelRdt"), (v) => validateIntelRdt(problems, v));
  const netDevices = optional(
    field(object, "netDevices"),
    (v) => validateNetDevices(problems, v, namespaces),
  );

  const linux: Linux = {
    namespaces,
    uidMappings,
    gidMappings,
    maskedPaths,
    readonlyPaths,
    devices,
  };
  return assignDefined(linux, {
    sysctl,
    rootfsPropagation,
    cgroupsPath,
    resources,
    seccomp,
    personality,
    memoryPolicy,
    timeOffsets,
    intelRdt,
    netDevices: netDevices && Object.keys(netDevices).length > 0 ? netDevices : undefined,
  });
}

/**
 * `timeOffsets`: only for a time namespace the container makes (offsets can be set only
 * before any process is in it), only the clocks a time namespace has.
 */
function checkTimeOffsets(
  problems: Problems,
  value: unknown,
  namespaces: readonly Namespace[],
): TimeOffsets | undefined {
  const path = "linux.timeOffsets";
  const object = expectObject(problems, path, value);
  if (object === undefined) return undefined;
  if (!createsNamespace(namespaces, "time")) {
    const joined = namespaces.some((ns) => ns.type === "time");
    addProblem(
      problems,
      path,
      joined
        ? "cannot be set for a joined time namespace (its offsets are fixed once a process is in it)"
        : "requires a new time namespace (a linux.namespaces entry of type time without a path)",
    );
    return undefined;
  }
  const offsets: TimeOffsets = {};
  let valid = true;
  for (const [clock, entry] of Object.entries(object)) {
    const clockPath = keyPath(path, clock);
    if (!(TIME_NAMESPACE_CLOCKS as readonly string[]).includes(clock)) {
      addProblem(
        problems,
        clockPath,
        `unknown clock (a time namespace offsets only ${TIME_NAMESPACE_CLOCKS.join(" and ")})`,
      );
      valid = false;
      continue;
    }
    const offset = checkTimeOffset(problems, clockPath, entry);
    if (offset === undefined) valid = false;
    else offsets[clock as keyof TimeOffsets] = offset;
  }
  return valid ? offsets : undefined;
}

/** One clock's `{secs, nanosecs}`, both optional (0). */
function checkTimeOffset(problems: Problems, path: string, value: unknown): TimeOffset | undefined {
  const object = expectObject(problems, path, value);
  if (object === undefined) return undefined;
  const secs = optional(
    field(object, "secs"),
    (v) => expectInteger(problems, keyPath(path, "secs"), v, -MAX_OFFSET_SECS, MAX_OFFSET_SECS),
  );
  const nanosecs = optional(
    field(object, "nanosecs"),
    (v) => expectInteger(problems, keyPath(path, "nanosecs"), v, 0, 999_999_999),
  );
  const given = (key: string) => field(object, key) !== undefined;
  if ((given("secs") && secs === undefined) || (given("nanosecs") && nanosecs === undefined)) {
    return undefined;
  }
  return { secs: secs ?? 0, nanosecs: nanosecs ?? 0 };
}

/** `memoryPolicy`: a mode, the nodes it needs (none for default and local), known flags. */
function checkMemoryPolicy(problems: Problems, value: unknown): MemoryPolicy | undefined {
  const path = "linux.memoryPolicy";
  const object = expectObject(problems, path, value);
  if (object === undefined) return undefined;
  const modes = Object.keys(MEMORY_POLICY_MODES) as (keyof typeof MEMORY_POLICY_MODES)[];
  const mode = expectOneOf(problems, keyPath(path, "mode"), field(object, "mode"), modes);
  const nodesValue = field(object, "nodes");
  const nodes = nodesValue === undefined || nodesValue === ""
    ? []
    : checkCpuList(problems, keyPath(path, "nodes"), nodesValue);
  const known = Object.keys(MEMORY_POLICY_FLAGS);
  const flags = optional(
    field(object, "flags"),
    (v) =>
      expectStringArray(problems, keyPath(path, "flags"), v, (at, flag) => {
        if (known.includes(flag)) return true;
        addProblem(problems, at, `unknown flag "${flag}"`);
        return false;
      }),
  ) as MemoryPolicy["flags"];
  if (flags?.includes("MPOL_F_STATIC_NODES") && flags.includes("MPOL_F_RELATIVE_NODES")) {
    addProblem(
      problems,
      keyPath(path, "flags"),
      "MPOL_F_STATIC_NODES and MPOL_F_RELATIVE_NODES exclude each other",
    );
  }
  if (mode === undefined || nodes === undefined) return undefined;
  const needsNodes = [
    "MPOL_BIND",
    "MPOL_INTERLEAVE",
    "MPOL_WEIGHTED_INTERLEAVE",
    "MPOL_PREFERRED_MANY",
  ];
  if (needsNodes.includes(mode) && nodes.length === 0) {
    addProblem(problems, keyPath(path, "nodes"), `required for ${mode}`);
    return undefined;
  }
  if ((mode === "MPOL_DEFAULT" || mode === "MPOL_LOCAL") && nodes.length > 0) {
    addProblem(problems, keyPath(path, "nodes"), `must be empty for ${mode}`);
    return undefined;
  }
  return assignDefined<MemoryPolicy>({ mode }, {
    nodes: nodes.length > 0 ? nodesValue as string : undefined,
    flags,
  });
}

/** `personality`: a domain of the spec; no flags (the spec defines none). */
function checkPersonality(problems: Problems, value: unknown): Personality | undefined {
  const path = "linux.personality";
  const object = expectObject(problems, path, value);
  if (object === undefined) return undefined;
  const domain = expectOneOf(
    problems,
    keyPath(path, "domain"),
    field(object, "domain"),
    Object.keys(PERSONALITY_DOMAINS) as (keyof typeof PERSONALITY_DOMAINS)[],
  );
  const flags = optional(
    field(object, "flags"),
    (v) => expectStringArray(problems, keyPath(path, "flags"), v),
  );
  if (flags && flags.length > 0) {
    addProblem(problems, keyPath(path, "flags"), `not supported: ${flags.join(", ")}`);
    return undefined;
  }
  return domain === undefined ? undefined : { domain };
}

/** Whether `namespaces` creates a new namespace of `type` (an entry without a path). */
export function createsNamespace(namespaces: readonly Namespace[], type: NamespaceType): boolean {
  return namespaces.some((ns) => ns.type === type && ns.path === undefined);
}

function checkNamespaces(problems: Problems, value: unknown): Namespace[] {
  const path = "linux.namespaces";
  const list = optional(value, (v) => expectArray(problems, path, v)) ?? [];
  const seen = new Set<string>();
  const namespaces: Namespace[] = [];
  list.forEach((item, i) => {
    const itemPath = indexPath(path, i);
    const object = expectObject(problems, itemPath, item);
    const namespace = object && checkNamespace(problems, itemPath, object);
    if (namespace === undefined) return;
    if (seen.has(namespace.type)) {
      addProblem(problems, keyPath(itemPath, "type"), `duplicate namespace "${namespace.type}"`);
      return;
    }
    seen.add(namespace.type);
    namespaces.push(namespace);
  });
  return namespaces;
}

function checkNamespace(
  problems: Problems,
  path: string,
  object: JsonObject,
): Namespace | undefined {
  const typePath = keyPath(path, "type");
  const typeValue = field(object, "type");
  const nsPath = optional(
    field(object, "path"),
    (v) => expectAbsolutePath(problems, keyPath(path, "path"), v),
  );
  if (typeValue === undefined) {
    addProblem(problems, typePath, "required");
    return undefined;
  }
  const type = expectString(problems, typePath, typeValue);
  if (type === undefined) return undefined;
  if (!isNamespaceType(type)) {
    addProblem(problems, typePath, `unknown namespace ${JSON.stringify(type)}`);
    return undefined;
  }
  if (type === "time" && !timeNamespacesAvailable()) {
    addProblem(problems, typePath, "this kernel has no time namespaces (CONFIG_TIME_NS)");
    return undefined;
  }
  return assignDefined<Namespace>({ type }, { path: nsPath });
}

/** Whether this kernel has time namespaces (CONFIG_TIME_NS, Linux 5.6+). */
function timeNamespacesAvailable(): boolean {
  try {
    Deno.statSync("/proc/self/timens_offsets");
    return true;
  } catch (e) {
    return !(e instanceof Deno.errors.NotFound);
  }
}

function isNamespaceType(name: string): name is NamespaceType {
  return (NAMESPACE_TYPES as readonly string[]).includes(name);
}

function checkUserNamespace(
  problems: Problems,
  object: JsonObject,
  namespaces: readonly Namespace[],
): void {
  const hasUserNamespace = namespaces.some((ns) => ns.type === "user");
  for (const key of ["uidMappings", "gidMappings"]) {
    const given = isSet(field(object, key));
    if (given && !hasUserNamespace) {
      addProblem(problems, keyPath("linux", key), "requires a user namespace");
    }
    if (!given && createsNamespace(namespaces, "user")) {
      addProblem(problems, keyPath("linux", key), "required when creating a user namespace");
    }
  }
}

function checkSysctl(
  problems: Problems,
  value: unknown,
  namespaces: readonly Namespace[],
): Record<string, string> | undefined {
  const path = "linux.sysctl";
  const sysctl = expectStringMap(problems, path, value);
  if (sysctl === undefined) return undefined;
  for (const name of Object.keys(sysctl)) {
    const itemPath = keyPath(path, name);
    if (!isSysctlName(name)) {
      addProblem(problems, itemPath, "not a valid sysctl name");
      continue;
    }
    const needs = sysctlNamespace(name);
    if (needs === undefined) {
      addProblem(problems, itemPath, "not namespaced: setting it would change the host");
    } else if (!namespaces.some((ns) => ns.type === needs)) {
      addProblem(problems, itemPath, `requires a ${needs} namespace`);
    }
  }
  return sysctl;
}

function checkPaths(problems: Problems, path: string, value: unknown): string[] {
  return optional(
    value,
    (v) =>
      expectStringArray(
        problems,
        path,
        v,
        (itemPath, item) =>
          expectAbsolutePath(problems, itemPath, item, "path outside the rootfs") !== undefined,
      ),
  ) ?? [];
}

function checkCgroupsPath(problems: Problems, value: unknown): string | undefined {
  const cgroupsPath = expectString(problems, "linux.cgroupsPath", value);
  if (cgroupsPath === undefined) return undefined;
  const parts = cgroupsPath.split(/[/:]/);
  if (parts.includes("..")) {
    addProblem(problems, "linux.cgroupsPath", `must not contain ".." components`);
    return undefined;
  }
  if (parts.every((p) => p === "" || p === ".")) {
    addProblem(problems, "linux.cgroupsPath", "must name a cgroup below the root");
    return undefined;
  }
  return cgroupsPath;
}

/**
 * `mountLabel` is an SELinux file context for the container's mounts. Without SELinux no
 * file carries one and it changes nothing (runc and crun skip it there too); with SELinux
 * cell does not apply it yet, so it is refused rather than dropped.
 */
function checkMountLabel(problems: Problems, value: unknown): void {
  if (value === undefined || value === "") return;
  if (expectString(problems, "linux.mountLabel", value) === undefined) return;
  if (lsmEnabled("SELinux")) {
    addProblem(problems, "linux.mountLabel", "SELinux mount labels are not applied by cell yet");
  }
}
