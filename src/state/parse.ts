/**
 * Reading `state.json` back: the shape is checked field by field, so a truncated, empty,
 * garbled or hand-edited file is one clear error naming the file (never a `SyntaxError` or a
 * `TypeError` later), and whatever can still be read from it (the init, the cgroup, the
 * process that was starting it) is salvaged for `destroy`.
 *
 * @module
 */

import type { CgroupState } from "../cgroups/manager.ts";
import type { ResctrlState } from "../resctrl/mod.ts";
import { ContainerError } from "../errors.ts";
import { clip } from "../text.ts";
import type { NetworkRecord } from "../network/options.ts";
import type { ProcessIdentity } from "./identity.ts";
import type { ContainerState } from "./store.ts";

/** What a damaged state file still tells: enough to find the container's processes and cgroups. */
export interface Remnants {
  /** The init, if one was recorded. */
  init?: ProcessIdentity;
  /** The process that began a start and had not finished it. */
  starting?: ProcessIdentity;
  /** The cgroup, as recorded (its `created` list says what is the container's). */
  cgroup?: CgroupState;
  /** The resctrl groups, as recorded (intelRdt). */
  resctrl?: ResctrlState;
  /** What was made on the host for its network. */
  networkMade?: NetworkRecord;
}

/**
 * The order fields are written in: what finds the processes and cgroups comes before the
 * (large) config, so even a file cut short keeps it.
 */
export function serializeState(state: ContainerState): string {
  return JSON.stringify({
    version: state.version,
    id: state.id,
    init: state.init,
    starting: state.starting,
    execFifo: state.execFifo,
    cgroup: state.cgroup,
    resctrl: state.resctrl,
    networkMade: state.networkMade,
    created: state.created,
    bundle: state.bundle,
    noPivotRoot: state.noPivotRoot,
    network: state.network,
    config: state.config,
  });
}

const corruptErrors = new WeakSet<ContainerError>();

/** The error for an unreadable state file: code SystemError, `path` the file. */
export function corruptState(id: string, file: string, why: string): ContainerError {
  const error = new ContainerError(
    "SystemError",
    `the state of container "${id}" is unreadable: ${file}: ${why} (destroy, or ` +
      `"delete --force", removes what is left of it)`,
    { path: file },
  );
  corruptErrors.add(error);
  return error;
}

/** Whether `error` came from {@linkcode corruptState}. */
export function isCorruptState(error: unknown): boolean {
  return error instanceof ContainerError && corruptErrors.has(error);
}

/**
 * Whether a load failed because there is no state to load (none, or a corrupt one): what
 * is left of the container is then destroyed from its remnants.
 */
export function isUnloadable(error: unknown): boolean {
  const gone = error instanceof ContainerError && error.code === "ContainerNotFound";
  return gone || isCorruptState(error);
}

/** Parses and checks a state file's text; a corrupt one throws {@linkcode corruptState}. */
export function parseState(text: string, id: string, file: string): ContainerState {
  if (text.trim() === "") throw corruptState(id, file, "the file is empty");
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw corruptState(id, file, `not valid JSON (${printable(clip((e as Error).message))})`);
  }
  const problem = stateProblem(value, id);
  if (problem) throw corruptState(id, file, problem);
  return value as ContainerState;
}

/** What is wrong with a parsed state, or undefined when it has every field it needs. */
function stateProblem(value: unknown, id: string): string | undefined {
  if (!isObject(value)) return "not a JSON object";
  if (value.version !== 1) return `unknown version ${clip(JSON.stringify(value.version) ?? "")}`;
  if (value.id !== id) {
    return value.id === undefined
      ? `the field "id" is missing`
      : `it names container ${clip(JSON.stringify(value.id))}`;
  }
  if (typeof value.created !== "string") return fieldProblem("created", value.created);
  if (value.init !== null && !isIdentity(value.init)) return fieldProblem("init", value.init);
  if (value.starting !== undefined && !isIdentity(value.starting)) {
    return fieldProblem("starting", value.starting);
  }
  if (value.execFifo !== undefined && typeof value.execFifo !== "string") {
    return fieldProblem("execFifo", value.execFifo);
  }
  if (!isCgroupState(value.cgroup)) return fieldProblem("cgroup", value.cgroup);
  if (value.resctrl !== undefined && !isResctrlState(value.resctrl)) {
    return fieldProblem("resctrl", value.resctrl);
  }
  if (value.bundle !== undefined && typeof value.bundle !== "string") {
    return fieldProblem("bundle", value.bundle);
  }
  if (value.networkMade !== undefined && !isNetworkRecord(value.networkMade)) {
    return fieldProblem("networkMade", value.networkMade);
  }
  if (value.network !== undefined && !isObject(value.network)) {
    return fieldProblem("network", value.network);
  }
  const config = value.config;
  if (!isObject(config) || !isObject(config.root) || typeof config.root.path !== "string") {
    return fieldProblem("config", config);
  }
  for (const key of ["process", "linux", "hooks", "annotations"]) {
    if (config[key] !== undefined && !isObject(config[key])) {
      return fieldProblem(`config.${key}`, config[key]);
    }
  }
  if (config.mounts !== undefined && !Array.isArray(config.mounts)) {
    return fieldProblem("config.mounts", config.mounts);
  }
  return undefined;
}

/** Control characters (a garbled file's NULs, quoted by JSON.parse) as escapes. */
function printable(text: string): string {
  return text.replace(
    // deno-lint-ignore no-control-regex
    /[\x00-\x1f\x7f]/g,
    (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`,
  );
}

function fieldProblem(name: string, value: unknown): string {
  return value === undefined ? `the field "${name}" is missing` : `the field "${name}" is invalid`;
}

/**
 * What can still be read from a damaged state file: from the parsed object when it is
 * JSON, else from the text itself (the init and the cgroup are written before the config,
 * so a file cut short usually keeps them).
 */
export function salvageState(text: string): Remnants {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  if (isObject(value)) {
    return {
      init: isIdentity(value.init) ? value.init : undefined,
      starting: isIdentity(value.starting) ? value.starting : undefined,
      cgroup: isCgroupState(value.cgroup) ? value.cgroup : undefined,
      resctrl: isResctrlState(value.resctrl) ? value.resctrl : undefined,
      networkMade: isNetworkRecord(value.networkMade) ? value.networkMade : undefined,
    };
  }
  const init = objectAfter(text, `"init":`);
  const starting = objectAfter(text, `"starting":`);
  const cgroup = objectAfter(text, `"cgroup":`);
  const resctrl = objectAfter(text, `"resctrl":`);
  const networkMade = objectAfter(text, `"networkMade":`);
  return {
    init: isIdentity(init) ? init : undefined,
    starting: isIdentity(starting) ? starting : undefined,
    cgroup: isCgroupState(cgroup) ? cgroup : undefined,
    resctrl: isResctrlState(resctrl) ? resctrl : undefined,
    networkMade: isNetworkRecord(networkMade) ? networkMade : undefined,
  };
}

/** The JSON object that follows the first `key` in text, if it is complete. */
function objectAfter(text: string, key: string): unknown {
  const at = text.indexOf(key);
  if (at < 0) return undefined;
  const start = at + key.length;
  if (text[start] !== "{") return undefined;
  let depth = 0;
  let inString = false;
  // Bounded by the text: one pass, no recursion.
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === "{") depth++;
    else if (c === "}" && --depth === 0) {
      try {
        return JSON.parse(text.slice(start, i + 1));
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isIdentity(value: unknown): value is ProcessIdentity {
  return isObject(value) && Number.isInteger(value.pid) && (value.pid as number) > 0 &&
    Number.isInteger(value.startTime) && (value.startTime as number) >= 0;
}

function isStringMap(value: unknown): value is Record<string, string> {
  return isObject(value) && Object.values(value).every((v) => typeof v === "string");
}

/**
 * A cgroup state whose directories all lie strictly below their hierarchy's root: a damaged
 * file must never make destroy kill the processes of a whole hierarchy.
 */
function isCgroupState(value: unknown): value is CgroupState {
  if (!isObject(value) || !isStringMap(value.paths) || !isStringMap(value.roots)) return false;
  if (value.mode !== "v1" && value.mode !== "v2" && value.mode !== "none") return false;
  const roots = value.roots;
  const below = (dir: string, root: string | undefined) =>
    root !== undefined && root.startsWith("/") && dir.startsWith(`${root}/`) &&
    !dir.split("/").includes("..");
  if (!Object.entries(value.paths).every(([key, dir]) => below(dir, roots[key]))) return false;
  return Array.isArray(value.created) &&
    value.created.every((d) =>
      typeof d === "string" && Object.values(roots).some((root) => below(d, root))
    );
}

/**
 * A resctrl record: lists of absolute paths (that they lie below the resctrl mount is
 * checked where they are removed).
 */
function isResctrlState(value: unknown): value is ResctrlState {
  if (!isObject(value)) return false;
  const paths = (list: unknown) =>
    Array.isArray(list) && list.every((p) => typeof p === "string" && p.startsWith("/"));
  return paths(value.remove) && paths(value.tasks);
}

/** A network record whose every name is a possible interface name and index a positive one. */
function isNetworkRecord(value: unknown): value is NetworkRecord {
  const name = (n: unknown) => typeof n === "string" && n.length > 0 && n.length <= 15;
  return isObject(value) && Array.isArray(value.veths) && Array.isArray(value.bridges) &&
    value.bridges.every(name) &&
    value.veths.every((v) =>
      isObject(v) && name(v.hostName) && name(v.name) && Number.isInteger(v.index) &&
      (v.index as number) > 0
    ) &&
    (value.unmarkedBridges === undefined ||
      Array.isArray(value.unmarkedBridges) && value.unmarkedBridges.every(name)) &&
    (value.unmarkedBridgeIndexes === undefined ||
      isObject(value.unmarkedBridgeIndexes) &&
        Object.entries(value.unmarkedBridgeIndexes).every(([n, i]) =>
          name(n) && Number.isInteger(i) && (i as number) > 0
        )) &&
    (value.hostNetns === undefined ||
      isObject(value.hostNetns) && Number.isInteger(value.hostNetns.dev) &&
        Number.isInteger(value.hostNetns.ino)) &&
    (value.movedDevices === undefined || isMovedDevices(value.movedDevices, name));
}

function isMovedDevices(value: unknown, name: (n: unknown) => boolean): boolean {
  return isObject(value) && isIdentity(value.init) && Array.isArray(value.devices) &&
    value.devices.every((d) =>
      isObject(d) && name(d.host) && name(d.target) && Number.isInteger(d.index) &&
      typeof d.up === "boolean" && Array.isArray(d.addresses) &&
      (d.temp === undefined || name(d.temp)) && (d.final === undefined || name(d.final)) &&
      (d.insideIndex === undefined || Number.isInteger(d.insideIndex)) &&
      d.addresses.every((a) => typeof a === "string" && /^(?:[0-9a-f]{2})*$/.test(a))
    );
}
