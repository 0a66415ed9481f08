/**
 * Checks an OCI runtime-spec `config.json` against what cell supports and returns a
 * normalized copy. Every problem is collected and reported together.
 *
 * @module
 */

import * as posix from "../path.ts";
import { ContainerError } from "../errors.ts";
import {
  addProblem,
  assignDefined,
  expectBoolean,
  expectObject,
  expectString,
  expectStringMap,
  field,
  isObject,
  optional,
  type Problems,
  rejectFields,
} from "./problems.ts";
import type { Namespace, Root, Spec } from "./types.ts";
import { validateHooks } from "./validate_hooks.ts";
import { validateLinux } from "./validate_linux.ts";
import { resolveMountIdMaps, validateMounts } from "./validate_mounts.ts";
import { validateProcess } from "./validate_process.ts";

/** Options for {@linkcode validateConfig}. */
export interface ValidateOptions {
  /**
   * The bundle directory the config came from. A relative `root.path` and relative bind
   * mount sources are resolved against it; without it they are kept as written.
   */
  bundle?: string;
}

const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;

/** Longest host or domain name the kernel accepts, in bytes. */
const MAX_NAME_BYTES = 64;

/** Top-level fields of the spec for platforms cell does not run on. */
const OTHER_PLATFORMS = ["solaris", "windows", "vm", "zos"];

/**
 * Validates a parsed `config.json` and returns a new, normalized {@linkcode Spec}; `input` is
 * not modified.
 *
 * The result drops fields the OCI spec does not define, fills in `mounts`, `process.env`,
 * `process.rlimits`, `process.user.additionalGids`, mount `options` and every array of
 * `linux` (namespaces, id mappings, masked and read-only paths, devices) with `[]` when
 * missing, sets `root.readonly` to a boolean, and resolves a relative `root.path` against
 * `options.bundle`. `null` counts as absent for optional fields. Spec fields cell does not
 * implement yet are errors, not silently ignored; so are sysctls outside the container's
 * namespaces.
 *
 * @throws {ContainerError} code `ConfigInvalid`, whose message starts with
 *   `invalid container config:` followed by one line `<json path>: <problem>` per problem.
 *
 * @example Load a bundle's config
 * ```ts ignore
 * const raw = JSON.parse(await Deno.readTextFile(`${bundle}/config.json`));
 * const spec = validateConfig(raw, { bundle });
 * ```
 */
export function validateConfig(input: unknown, options: ValidateOptions = {}): Spec {
  const problems: Problems = [];
  let spec: Spec | undefined;
  if (isObject(input)) spec = checkSpec(problems, input, options.bundle);
  else addProblem(problems, "", "must be an object");
  if (problems.length > 0 || spec === undefined) {
    if (problems.length === 0) addProblem(problems, "", "not a usable config");
    throw new ContainerError(
      "ConfigInvalid",
      ["invalid container config:", ...problems].join("\n"),
    );
  }
  return spec;
}

function checkSpec(
  problems: Problems,
  input: Record<string, unknown>,
  bundle: string | undefined,
): Spec | undefined {
  const ociVersion = checkVersion(problems, field(input, "ociVersion"));
  const root = checkRoot(problems, field(input, "root"), bundle);
  const mounts = validateMounts(problems, field(input, "mounts"), bundle);
  // Optional in the spec: a container without one can be created; start refuses it.
  const processValue = field(input, "process");
  const process = processValue === undefined ? undefined : validateProcess(problems, processValue);
  const linux = validateLinux(problems, field(input, "linux"));
  resolveMountIdMaps(problems, mounts, linux);
  const namespaces = linux.namespaces ?? [];
  const hostname = checkName(problems, "hostname", field(input, "hostname"), namespaces);
  const domainname = checkName(problems, "domainname", field(input, "domainname"), namespaces);
  const annotations = optional(
    field(input, "annotations"),
    (v) => expectStringMap(problems, "annotations", v),
  );
  const hooks = optional(field(input, "hooks"), (v) => validateHooks(problems, v));
  rejectFields(problems, input, "", OTHER_PLATFORMS, "not supported");
  if (ociVersion === undefined || root === undefined) return undefined;
  if (processValue !== undefined && process === undefined) return undefined;
  const spec: Spec = { ociVersion, root, mounts };
  return assignDefined(spec, { process, hostname, domainname, annotations, linux, hooks });
}

function checkVersion(problems: Problems, value: unknown): string | undefined {
  if (value === undefined) {
    addProblem(problems, "ociVersion", "required");
    return undefined;
  }
  const version = expectString(problems, "ociVersion", value);
  if (version === undefined) return undefined;
  const match = SEMVER.exec(version);
  if (match === null) {
    addProblem(
      problems,
      "ociVersion",
      `must be a version like "1.0.2", got ${JSON.stringify(version)}`,
    );
    return undefined;
  }
  if (match[1] !== "1") {
    addProblem(problems, "ociVersion", `unsupported major version ${match[1]} (cell supports 1.x)`);
    return undefined;
  }
  return version;
}

function checkRoot(
  problems: Problems,
  value: unknown,
  bundle: string | undefined,
): Root | undefined {
  if (value === undefined) {
    addProblem(problems, "root", "required");
    return undefined;
  }
  const object = expectObject(problems, "root", value);
  if (object === undefined) return undefined;
  const pathValue = field(object, "path");
  if (pathValue === undefined) addProblem(problems, "root.path", "required");
  const path = optional(pathValue, (v) => expectString(problems, "root.path", v, true));
  const readonly = optional(
    field(object, "readonly"),
    (v) => expectBoolean(problems, "root.readonly", v),
  );
  if (path === undefined) return undefined;
  const resolved = bundle !== undefined && !posix.isAbsolute(path)
    ? posix.resolve(bundle, path)
    : path;
  return { path: resolved, readonly: readonly ?? false };
}

function checkName(
  problems: Problems,
  key: "hostname" | "domainname",
  value: unknown,
  namespaces: readonly Namespace[],
): string | undefined {
  const name = optional(value, (v) => expectString(problems, key, v));
  if (name === undefined || name === "") return name;
  if (new TextEncoder().encode(name).length > MAX_NAME_BYTES) {
    addProblem(problems, key, `must be at most ${MAX_NAME_BYTES} bytes`);
  }
  // A joined uts namespace is the container's own too (as runc reads it): it is named.
  if (!namespaces.some((ns) => ns.type === "uts")) {
    addProblem(problems, key, "requires a uts namespace");
  }
  return name;
}
