/**
 * Validation of the `mounts` section of a container config. Internal to `src/config/`.
 *
 * @module
 */

import * as posix from "../path.ts";
import {
  BIND_MOUNT_OPTIONS,
  CGROUP_MOUNT_OPTIONS,
  isBindMount,
  TMPCOPYUP,
  UNSUPPORTED_MOUNT_OPTIONS,
} from "./mount_options.ts";
import {
  addProblem,
  assignDefined,
  expectAbsolutePath,
  expectArray,
  expectObject,
  expectString,
  expectStringArray,
  field,
  indexPath,
  type JsonObject,
  keyPath,
  optional,
  type Problems,
  rejectFields,
} from "./problems.ts";
import type { Mount } from "./types.ts";

/**
 * Checks `mounts` and returns normalized copies (destinations normalized, `options` always
 * present, relative bind sources resolved against `bundle` when given), recording every
 * problem.
 */
export function validateMounts(
  problems: Problems,
  value: unknown,
  bundle: string | undefined,
): Mount[] {
  const list = optional(value, (v) => expectArray(problems, "mounts", v)) ?? [];
  const mounts: Mount[] = [];
  list.forEach((item, i) => {
    const path = indexPath("mounts", i);
    const object = expectObject(problems, path, item);
    if (object === undefined) return;
    const mount = checkMount(problems, path, object, bundle);
    if (mount !== undefined) mounts.push(mount);
  });
  return mounts;
}

function checkMount(
  problems: Problems,
  path: string,
  object: JsonObject,
  bundle: string | undefined,
): Mount | undefined {
  rejectFields(problems, object, path, ["uidMappings", "gidMappings"], "not supported");
  const destinationPath = keyPath(path, "destination");
  const destinationValue = field(object, "destination");
  if (destinationValue === undefined) addProblem(problems, destinationPath, "required");
  const destination = optional(
    destinationValue,
    (v) => expectAbsolutePath(problems, destinationPath, v, "mount target outside the rootfs"),
  );
  const type = optional(
    field(object, "type"),
    (v) => expectString(problems, keyPath(path, "type"), v),
  );
  let source = optional(
    field(object, "source"),
    (v) => expectString(problems, keyPath(path, "source"), v),
  );
  const options = optional(field(object, "options"), (v) => checkOptions(problems, path, v)) ?? [];

  const bind = isBindMount(type, options);
  checkOptionsApply(problems, path, options, bind, type);
  if (bind && source === undefined && field(object, "source") === undefined) {
    addProblem(problems, keyPath(path, "source"), "required for a bind mount");
  }
  if (options.includes(TMPCOPYUP) && (type !== "tmpfs" || bind)) {
    addProblem(problems, keyPath(path, "options"), `"${TMPCOPYUP}" is only for tmpfs mounts`);
  }
  if (type === "none" && !bind) {
    addProblem(problems, keyPath(path, "type"), `"none" needs a bind or rbind option`);
  }
  if (destination === undefined) return undefined;
  if (bind && source !== undefined && bundle !== undefined && !posix.isAbsolute(source)) {
    source = posix.resolve(bundle, source);
  }
  return assignDefined<Mount>({ destination: cleanPath(destination) }, { type, source, options });
}

function checkOptions(problems: Problems, path: string, value: unknown): string[] | undefined {
  return expectStringArray(problems, keyPath(path, "options"), value, (itemPath, option) => {
    if (option === "") {
      addProblem(problems, itemPath, "must be a non-empty string");
      return false;
    }
    if (UNSUPPORTED_MOUNT_OPTIONS.has(option)) {
      addProblem(problems, itemPath, `${JSON.stringify(option)} is not supported`);
      return false;
    }
    return true;
  });
}

/**
 * An option the mount would ignore is refused: a bind mount takes no superblock flags, a
 * cgroup mount only the flags cell mounts it with. Filesystem data (`key=value`) on a bind
 * is let through, as runc and crun let it through to mount(2), which takes no data with a
 * bind: the spec's own validation suite gives binds `mode=755,size=1k`.
 */
function checkOptionsApply(
  problems: Problems,
  path: string,
  options: readonly string[],
  bind: boolean,
  type: string | undefined,
): void {
  const cgroup = !bind && (type === "cgroup" || type === "cgroup2");
  if (!bind && !cgroup) return;
  const allowed = bind ? BIND_MOUNT_OPTIONS : CGROUP_MOUNT_OPTIONS;
  options.forEach((option, i) => {
    if (allowed.has(option) || UNSUPPORTED_MOUNT_OPTIONS.has(option)) return;
    if (bind && /^[a-z0-9_]+=/.test(option)) return;
    addProblem(
      problems,
      indexPath(keyPath(path, "options"), i),
      `${JSON.stringify(option)} has no effect on a ${bind ? "bind" : "cgroup"} mount`,
    );
  });
}

/** `posix.normalize` without a trailing slash: `/dev//pts/` becomes `/dev/pts`. */
function cleanPath(path: string): string {
  const clean = posix.normalize(path);
  return clean.length > 1 && clean.endsWith("/") ? clean.slice(0, -1) : clean;
}
