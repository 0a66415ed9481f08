/**
 * Small building blocks for the config validator: a list of problems, JSON path helpers and
 * `expect*` checks that either return the typed value or record a problem and return
 * `undefined`. Internal to `src/config/` and the seccomp profile check
 * (`src/seccomp/check_profile.ts`).
 *
 * @module
 */

import * as posix from "../path.ts";
import { clip } from "../text.ts";

/** The problems found so far, each formatted as `<json path>: <problem>`. */
export type Problems = string[];

/** A plain JSON object (not an array, not null). */
export type JsonObject = Record<string, unknown>;

/** Records one problem at `path` (the empty path is shown as `(root)`). */
export function addProblem(problems: Problems, path: string, message: string): void {
  // A 200 KB key or value from the config is shown cut, never whole.
  problems.push(`${path === "" ? "(root)" : clip(path)}: ${clip(message)}`);
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** The JSON path of `key` inside the object at `base`: `a.b`, or `a["x.y"]` for odd keys. */
export function keyPath(base: string, key: string): string {
  if (!IDENTIFIER.test(key)) return `${base}[${JSON.stringify(key)}]`;
  return base === "" ? key : `${base}.${key}`;
}

/** The JSON path of element `index` of the array at `base`: `a[3]`. */
export function indexPath(base: string, index: number): string {
  return `${base}[${index}]`;
}

/** Whether `value` is a plain JSON object. */
export function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * The own property `key` of `object` as it is (`null` stays `null`), or `undefined` when
 * the object has none. Inherited properties are never read.
 */
export function ownField(object: JsonObject, key: string): unknown {
  return Object.hasOwn(object, key) ? object[key] : undefined;
}

/**
 * The own property `key` of `object`, with `null` read as absent (`undefined`).
 * Inherited properties are never read.
 */
export function field(object: JsonObject, key: string): unknown {
  const value = ownField(object, key);
  return value === null ? undefined : value;
}

/**
 * Whether a value asks for something: `undefined`, `null`, `""`, `false`, `[]` and `{}` ask
 * for nothing. Used to decide whether an unsupported field was really used.
 */
export function isSet(value: unknown): boolean {
  if (value === undefined || value === null || value === "" || value === false) return false;
  if (Array.isArray(value)) return value.length > 0;
  if (isObject(value)) return Object.keys(value).length > 0;
  return true;
}

/**
 * Records `<base>.<key>: <message>` for every key of `object` in `keys` that is set (see
 * {@linkcode isSet}).
 */
export function rejectFields(
  problems: Problems,
  object: JsonObject,
  base: string,
  keys: readonly string[],
  message: string,
): void {
  for (const key of keys) {
    if (isSet(field(object, key))) addProblem(problems, keyPath(base, key), message);
  }
}

/** The value as an object, or a problem. */
export function expectObject(
  problems: Problems,
  path: string,
  value: unknown,
): JsonObject | undefined {
  if (isObject(value)) return value;
  addProblem(problems, path, "must be an object");
  return undefined;
}

/** The value as an array, or a problem. */
export function expectArray(
  problems: Problems,
  path: string,
  value: unknown,
): unknown[] | undefined {
  if (Array.isArray(value)) return value;
  addProblem(problems, path, "must be an array");
  return undefined;
}

/** The value as a string (non-empty when `nonEmpty`), or a problem. */
export function expectString(
  problems: Problems,
  path: string,
  value: unknown,
  nonEmpty = false,
): string | undefined {
  if (typeof value !== "string") {
    addProblem(problems, path, nonEmpty ? "must be a non-empty string" : "must be a string");
    return undefined;
  }
  if (nonEmpty && value === "") {
    addProblem(problems, path, "must be a non-empty string");
    return undefined;
  }
  if (value.includes("\0")) {
    addProblem(problems, path, "must not contain a NUL byte");
    return undefined;
  }
  return value;
}

/** The value as a boolean, or a problem. */
export function expectBoolean(
  problems: Problems,
  path: string,
  value: unknown,
): boolean | undefined {
  if (typeof value === "boolean") return value;
  addProblem(problems, path, "must be a boolean");
  return undefined;
}

/** The value as an integer within `[min, max]`, or a problem (`message`, if given). */
export function expectInteger(
  problems: Problems,
  path: string,
  value: unknown,
  min: number,
  max: number,
  message = `must be an integer from ${min} to ${max}`,
): number | undefined {
  if (typeof value === "number" && Number.isInteger(value) && value >= min && value <= max) {
    return value;
  }
  addProblem(problems, path, message);
  return undefined;
}

/** The value as one of `allowed`, or a problem listing them. */
export function expectOneOf<T extends string>(
  problems: Problems,
  path: string,
  value: unknown,
  allowed: readonly T[],
): T | undefined {
  if (typeof value === "string" && (allowed as readonly string[]).includes(value)) {
    return value as T;
  }
  addProblem(problems, path, `must be one of ${allowed.map((a) => `"${a}"`).join(", ")}`);
  return undefined;
}

/**
 * The value as an array of strings, checking each element with `each` (when given). Bad
 * elements are reported at their own path and left out of the result.
 */
export function expectStringArray(
  problems: Problems,
  path: string,
  value: unknown,
  each?: (path: string, item: string) => boolean,
): string[] | undefined {
  const list = expectArray(problems, path, value);
  if (list === undefined) return undefined;
  const out: string[] = [];
  list.forEach((item, i) => {
    const itemPath = indexPath(path, i);
    const text = expectString(problems, itemPath, item);
    if (text !== undefined && (each === undefined || each(itemPath, text))) out.push(text);
  });
  return out;
}

/**
 * The value as an environment list: strings like `KEY=value` with a non-empty `KEY`. Bad
 * entries are reported at their own path and left out of the result.
 */
export function expectEnvList(
  problems: Problems,
  path: string,
  value: unknown,
): string[] | undefined {
  return expectStringArray(problems, path, value, (itemPath, entry) => {
    if (entry.indexOf("=") > 0) return true;
    addProblem(problems, itemPath, `must look like "KEY=value", got ${JSON.stringify(entry)}`);
    return false;
  });
}

/** The value as an object whose values are all strings (keys non-empty), or problems. */
export function expectStringMap(
  problems: Problems,
  path: string,
  value: unknown,
): Record<string, string> | undefined {
  const object = expectObject(problems, path, value);
  if (object === undefined) return undefined;
  const entries: [string, string][] = [];
  for (const [key, item] of Object.entries(object)) {
    const itemPath = keyPath(path, key);
    if (key === "") {
      addProblem(problems, itemPath, "keys must be non-empty");
      continue;
    }
    const text = expectString(problems, itemPath, item);
    if (text !== undefined) entries.push([key, text]);
  }
  // fromEntries defines own properties, so a "__proto__" key stays a plain key.
  return Object.fromEntries(entries);
}

/** Whether a `..` component in `path` climbs above where the path starts. */
export function climbsOut(path: string): boolean {
  let depth = 0;
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    depth += part === ".." ? -1 : 1;
    if (depth < 0) return true;
  }
  return false;
}

/**
 * The value as an absolute path, or a problem. With `inside` set, a path whose `..`
 * components would leave the container root is reported with that message.
 */
export function expectAbsolutePath(
  problems: Problems,
  path: string,
  value: unknown,
  inside?: string,
): string | undefined {
  if (typeof value !== "string") {
    addProblem(problems, path, "must be an absolute path");
    return undefined;
  }
  if (!posix.isAbsolute(value)) {
    addProblem(problems, path, "must be an absolute path");
    return undefined;
  }
  if (inside !== undefined && climbsOut(value)) {
    addProblem(problems, path, inside);
    return undefined;
  }
  return value;
}

/** Runs `check` on `value` unless it is absent (`undefined`). */
export function optional<T>(
  value: unknown,
  check: (value: unknown) => T | undefined,
): T | undefined {
  return value === undefined ? undefined : check(value);
}

/** Copies the fields of `extras` that are not `undefined` onto `target`, and returns it. */
export function assignDefined<T extends object>(target: T, extras: Partial<T>): T {
  for (const [key, value] of Object.entries(extras)) {
    if (value !== undefined) (target as Record<string, unknown>)[key] = value;
  }
  return target;
}

/**
 * An optional array of objects at `path`, each checked by `check` (which records its
 * own problems and returns undefined for a bad item); the good items, in order.
 */
export function expectObjectList<T>(
  problems: Problems,
  path: string,
  value: unknown,
  check: (problems: Problems, path: string, object: JsonObject) => T | undefined,
): T[] {
  const list = optional(value, (v) => expectArray(problems, path, v)) ?? [];
  const out: T[] = [];
  list.forEach((item, i) => {
    const itemPath = indexPath(path, i);
    const object = expectObject(problems, itemPath, item);
    const checked = object && check(problems, itemPath, object);
    if (checked) out.push(checked);
  });
  return out;
}
