/**
 * Validation of the `hooks` section of a container config: each known list is an array of
 * `{path, args?, env?, timeout?}` entries. Keys of `hooks` the spec does not define are
 * ignored, as unknown fields are everywhere. Internal to `src/config/`.
 *
 * @module
 */

import {
  addProblem,
  assignDefined,
  expectAbsolutePath,
  expectEnvList,
  expectInteger,
  expectObject,
  expectObjectList,
  expectString,
  expectStringArray,
  field,
  type JsonObject,
  keyPath,
  optional,
  type Problems,
} from "./problems.ts";
import { type Hook, HOOK_KINDS, type Hooks } from "./types.ts";

/** The longest hook timeout, in seconds: the most a timer can wait (2^31 - 1 ms). */
export const MAX_HOOK_TIMEOUT_S: number = Math.floor((2 ** 31 - 1) / 1000);

/**
 * Checks `hooks` and returns a copy holding the lists that were given (`null` counts as
 * absent), each with its good entries in order; every problem is recorded at its JSON path,
 * e.g. `hooks.poststart[1].path: must be an absolute path`.
 */
export function validateHooks(problems: Problems, value: unknown): Hooks | undefined {
  const object = expectObject(problems, "hooks", value);
  if (object === undefined) return undefined;
  const hooks: Hooks = {};
  for (const kind of HOOK_KINDS) {
    const list = field(object, kind);
    if (list !== undefined) {
      hooks[kind] = expectObjectList(problems, keyPath("hooks", kind), list, checkHook);
    }
  }
  return hooks;
}

function checkHook(problems: Problems, path: string, object: JsonObject): Hook | undefined {
  const pathValue = field(object, "path");
  if (pathValue === undefined) addProblem(problems, keyPath(path, "path"), "required");
  const program = optional(pathValue, (v) => checkProgram(problems, keyPath(path, "path"), v));
  const args = optional(
    field(object, "args"),
    (v) => expectStringArray(problems, keyPath(path, "args"), v),
  );
  const env = optional(
    field(object, "env"),
    (v) => expectEnvList(problems, keyPath(path, "env"), v),
  );
  const timeout = optional(
    field(object, "timeout"),
    (v) =>
      expectInteger(
        problems,
        keyPath(path, "timeout"),
        v,
        1,
        MAX_HOOK_TIMEOUT_S,
        `must be a whole number of seconds from 1 to ${MAX_HOOK_TIMEOUT_S}`,
      ),
  );
  if (program === undefined) return undefined;
  return assignDefined<Hook>({ path: program }, { args, env, timeout });
}

function checkProgram(problems: Problems, path: string, value: unknown): string | undefined {
  const absolute = expectAbsolutePath(problems, path, value);
  return absolute === undefined ? undefined : expectString(problems, path, absolute);
}
