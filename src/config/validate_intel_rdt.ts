/**
 * Validation of `linux.intelRdt` (syntax only: whether the host has resctrl, and what its
 * groups hold, is checked in `src/resctrl/`). Internal to `src/config/`.
 *
 * @module
 */

import {
  addProblem,
  assignDefined,
  expectBoolean,
  expectObject,
  expectString,
  expectStringArray,
  field,
  keyPath,
  optional,
  type Problems,
} from "./problems.ts";
import type { IntelRdt } from "./types.ts";

/** One schemata line: a resource name, a colon, its domains (the kernel checks the rest). */
const SCHEMA_LINE = /^[A-Za-z][A-Za-z0-9_]*:[^\n\r]+$/;

/**
 * Checks `linux.intelRdt`: a closID that is one directory name (or "/", the default group),
 * schemata lines without newlines (each is one line of the `schemata` file), memBwSchema
 * starting with "MB:", and l3CacheSchema with "L3" (the spec's "L3:", or L3CODE/L3DATA
 * when code and data are prioritized apart).
 */
export function validateIntelRdt(problems: Problems, value: unknown): IntelRdt | undefined {
  const path = "linux.intelRdt";
  const object = expectObject(problems, path, value);
  if (object === undefined) return undefined;
  for (const old of ["enableCMT", "enableMBM"]) {
    if (field(object, old) === true) {
      addProblem(problems, keyPath(path, old), "replaced by enableMonitoring (runtime-spec 1.3)");
    }
  }
  const closID = optional(field(object, "closID"), (v) => checkClosId(problems, v));
  const line = (key: string, prefix: RegExp, wanted: string) =>
    optional(field(object, key), (v) => {
      const text = expectString(problems, keyPath(path, key), v);
      if (text === undefined) return undefined;
      if (!SCHEMA_LINE.test(text) || !prefix.test(text)) {
        addProblem(
          problems,
          keyPath(path, key),
          `must be one schemata line starting with ${wanted}`,
        );
        return undefined;
      }
      return text;
    });
  const schemata = optional(
    field(object, "schemata"),
    (v) =>
      expectStringArray(problems, keyPath(path, "schemata"), v, (at, text) => {
        if (SCHEMA_LINE.test(text)) return true;
        addProblem(problems, at, 'must be one schemata line such as "L3:0=ff;1=f0"');
        return false;
      }),
  );
  return assignDefined<IntelRdt>({}, {
    // "" is no closID, as in runc.
    closID: closID === "" ? undefined : closID,
    l3CacheSchema: line("l3CacheSchema", /^L3/, '"L3"'),
    memBwSchema: line("memBwSchema", /^MB:/, '"MB:"'),
    schemata: schemata?.length ? schemata : undefined,
    enableMonitoring: optional(
      field(object, "enableMonitoring"),
      (v) => expectBoolean(problems, keyPath(path, "enableMonitoring"), v),
    ),
  });
}

function checkClosId(problems: Problems, value: unknown): string | undefined {
  const path = "linux.intelRdt.closID";
  const text = expectString(problems, path, value);
  if (text === undefined || text === "" || text === "/") return text;
  if (text === "." || text === ".." || text.includes("/") || /[\0\n]/.test(text)) {
    addProblem(problems, path, 'must be one directory name, or "/" for the default group');
    return undefined;
  }
  return text;
}
