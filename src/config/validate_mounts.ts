/**
 * Validation of the `mounts` section of a container config. Internal to `src/config/`.
 *
 * @module
 */

import * as posix from "../path.ts";
import { checkDisjoint, checkIdMappings } from "./id_mappings.ts";
import {
  BIND_MOUNT_OPTIONS,
  CGROUP_MOUNT_OPTIONS,
  IDMAP_OPTIONS,
  isBindMount,
  TMPCOPYUP,
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
  isSet,
  type JsonObject,
  keyPath,
  optional,
  type Problems,
} from "./problems.ts";
import type { IdMapping, Linux, Mount } from "./types.ts";

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
  const maps = checkMountIdMaps(problems, path, object, options, bind);
  if (destination === undefined) return undefined;
  if (bind && source !== undefined && bundle !== undefined && !posix.isAbsolute(source)) {
    source = posix.resolve(bundle, source);
  }
  return assignDefined<Mount>({ destination: cleanPath(destination) }, {
    type,
    source,
    options,
    ...maps,
  });
}

/**
 * An id-mapped bind (runtime-spec 1.3): `uidMappings` and `gidMappings` both or neither,
 * `idmap` or `ridmap` (mappings without either are an `idmap`, as runc and crun take
 * them), bind mounts only. Mappings left out are the container's, filled in by
 * {@linkcode resolveMountIdMaps}.
 */
function checkMountIdMaps(
  problems: Problems,
  path: string,
  object: JsonObject,
  options: readonly string[],
  bind: boolean,
): Pick<Mount, "uidMappings" | "gidMappings"> {
  const given = {
    uid: isSet(field(object, "uidMappings")),
    gid: isSet(field(object, "gidMappings")),
  };
  const uidMappings = checkIdMappings(
    problems,
    keyPath(path, "uidMappings"),
    field(object, "uidMappings"),
  );
  const gidMappings = checkIdMappings(
    problems,
    keyPath(path, "gidMappings"),
    field(object, "gidMappings"),
  );
  const optionsPath = keyPath(path, "options");
  const asked = options.flatMap((o, i) => IDMAP_OPTIONS.has(o) ? [{ option: o, i }] : []);
  if (asked.length > 1) {
    const names = asked.map((a) => JSON.stringify(a.option)).join(" and ");
    addProblem(problems, indexPath(optionsPath, asked[1].i), `${names} together: choose one`);
  }
  if (!bind) {
    for (const { option, i } of asked) {
      addProblem(
        problems,
        indexPath(optionsPath, i),
        `${JSON.stringify(option)} is only for bind mounts`,
      );
    }
    if (given.uid || given.gid) {
      const key = given.uid ? "uidMappings" : "gidMappings";
      addProblem(problems, keyPath(path, key), "only a bind mount can be id-mapped");
    }
  }
  if (given.uid !== given.gid) {
    const [missing, other] = given.uid
      ? ["gidMappings", "uidMappings"]
      : ["uidMappings", "gidMappings"];
    addProblem(problems, keyPath(path, missing), `required with ${other}`);
  }
  for (const [key, list] of [["uidMappings", uidMappings], ["gidMappings", gidMappings]] as const) {
    if (!given[key === "uidMappings" ? "uid" : "gid"]) continue;
    checkDisjoint(problems, keyPath(path, key), list);
  }
  if (!given.uid || !given.gid) return {};
  return { uidMappings, gidMappings };
}

/** Whether a validated mount is id-mapped: an `idmap` or `ridmap` option, or mappings. */
export function isIdMapped(mount: Mount): boolean {
  return mount.uidMappings !== undefined || (mount.options ?? []).some((o) => IDMAP_OPTIONS.has(o));
}

/**
 * An `idmap` or `ridmap` mount without mappings of its own takes those of the user
 * namespace the container creates (as runc does); with none to take, it is refused, as
 * the spec requires.
 */
export function resolveMountIdMaps(problems: Problems, mounts: Mount[], linux: Linux): void {
  const userns = linux.namespaces?.find((ns) => ns.type === "user");
  mounts.forEach((mount, i) => {
    if (!isIdMapped(mount) || mount.uidMappings !== undefined) return;
    const options = mount.options ?? [];
    const at = options.findIndex((o) => IDMAP_OPTIONS.has(o));
    const where = indexPath(keyPath(indexPath("mounts", i), "options"), at);
    const option = JSON.stringify(options[at]);
    if (userns === undefined) {
      addProblem(
        problems,
        where,
        `${option} without uidMappings and gidMappings takes the container's user namespace mappings, and the container has no user namespace`,
      );
    } else if (userns.path !== undefined) {
      addProblem(
        problems,
        where,
        `${option} without uidMappings and gidMappings: the container joins a user namespace (${userns.path}); give the mappings on the mount`,
      );
    } else {
      const copy = (list: IdMapping[] | undefined) => (list ?? []).map((m) => ({ ...m }));
      mount.uidMappings = copy(linux.uidMappings);
      mount.gidMappings = copy(linux.gidMappings);
    }
  });
}

function checkOptions(problems: Problems, path: string, value: unknown): string[] | undefined {
  return expectStringArray(problems, keyPath(path, "options"), value, (itemPath, option) => {
    if (option === "") {
      addProblem(problems, itemPath, "must be a non-empty string");
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
    if (allowed.has(option)) return;
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
