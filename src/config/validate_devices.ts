/**
 * Validation of `linux.devices` (device nodes to create) and of the device cgroup rules in
 * `linux.resources.devices`. Internal to `src/config/`.
 *
 * @module
 */

import {
  addProblem,
  assignDefined,
  expectAbsolutePath,
  expectBoolean,
  expectInteger,
  expectObjectList,
  expectOneOf,
  field,
  type JsonObject,
  keyPath,
  optional,
  type Problems,
} from "./problems.ts";
import type { Device, DeviceRule } from "./types.ts";
import { MAX_ID } from "./validate_process.ts";

const MAX_DEVICE_NUMBER = 2 ** 32 - 1;
const DEVICE_TYPES = ["c", "b", "u", "p"] as const;
const RULE_TYPES = ["a", "c", "b"] as const;

/** Checks `linux.devices` and returns normalized copies, recording every problem. */
export function validateDevices(problems: Problems, value: unknown): Device[] {
  return expectObjectList(problems, "linux.devices", value, checkDevice);
}

function checkDevice(problems: Problems, path: string, object: JsonObject): Device | undefined {
  const type = expectOneOf(problems, keyPath(path, "type"), field(object, "type"), DEVICE_TYPES);
  const devicePath = expectAbsolutePath(
    problems,
    keyPath(path, "path"),
    field(object, "path"),
    "device path outside the rootfs",
  );
  const needsNumbers = type !== undefined && type !== "p";
  const major = checkNumber(problems, keyPath(path, "major"), field(object, "major"), needsNumbers);
  const minor = checkNumber(problems, keyPath(path, "minor"), field(object, "minor"), needsNumbers);
  const fileMode = optional(
    field(object, "fileMode"),
    (v) => expectInteger(problems, keyPath(path, "fileMode"), v, 0, 0o177777),
  );
  const uid = optional(
    field(object, "uid"),
    (v) => expectInteger(problems, keyPath(path, "uid"), v, 0, MAX_ID),
  );
  const gid = optional(
    field(object, "gid"),
    (v) => expectInteger(problems, keyPath(path, "gid"), v, 0, MAX_ID),
  );
  if (type === undefined || devicePath === undefined) return undefined;
  return assignDefined<Device>({ type, path: devicePath }, { major, minor, fileMode, uid, gid });
}

function checkNumber(
  problems: Problems,
  path: string,
  value: unknown,
  required: boolean,
): number | undefined {
  if (value === undefined) {
    if (required) addProblem(problems, path, "required for c, b and u devices");
    return undefined;
  }
  return expectInteger(problems, path, value, 0, MAX_DEVICE_NUMBER);
}

/** Checks `linux.resources.devices`: the device cgroup rules, in order. */
export function validateDeviceRules(problems: Problems, value: unknown): DeviceRule[] {
  return expectObjectList(problems, "linux.resources.devices", value, checkRule);
}

function checkRule(problems: Problems, path: string, object: JsonObject): DeviceRule | undefined {
  const allowValue = field(object, "allow");
  if (allowValue === undefined) addProblem(problems, keyPath(path, "allow"), "required");
  const allow = optional(allowValue, (v) => expectBoolean(problems, keyPath(path, "allow"), v));
  const type = optional(
    field(object, "type"),
    (v) => expectOneOf(problems, keyPath(path, "type"), v, RULE_TYPES),
  );
  const major = checkRuleNumber(problems, keyPath(path, "major"), field(object, "major"));
  const minor = checkRuleNumber(problems, keyPath(path, "minor"), field(object, "minor"));
  const access = optional(field(object, "access"), (v) => checkAccess(problems, path, v));
  if (allow === undefined) return undefined;
  return assignDefined<DeviceRule>({ allow }, { type, major, minor, access });
}

/** A rule's major or minor: a number, or -1 / null / absent for "any" (returned as undefined). */
function checkRuleNumber(problems: Problems, path: string, value: unknown): number | undefined {
  if (value === undefined || value === -1) return undefined;
  return expectInteger(
    problems,
    path,
    value,
    0,
    MAX_DEVICE_NUMBER,
    "must be a non-negative integer, or -1 or null for any",
  );
}

function checkAccess(problems: Problems, path: string, value: unknown): string | undefined {
  const accessPath = keyPath(path, "access");
  const ok = typeof value === "string" && /^[rwm]*$/.test(value) &&
    new Set(value).size === value.length;
  if (ok) return value;
  addProblem(problems, accessPath, `must be a combination of "r", "w" and "m"`);
  return undefined;
}
