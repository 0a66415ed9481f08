/**
 * The mount option names cell understands. Options in {@linkcode MOUNT_FLAGS} become
 * `mount(2)` flags or propagation changes; every other option is filesystem data handed to
 * the kernel as-is (e.g. `mode=755`, `size=65536k`, `newinstance`).
 *
 * @module
 */

/** Per-mount attributes: each a flag of one mount, not of its filesystem. */
const PER_MOUNT = ["ro", "rw", "nosuid", "suid", "nodev", "dev", "noexec", "exec"];

/** Access-time attributes (per mount too). */
const ATIME = [
  "atime",
  "noatime",
  "diratime",
  "nodiratime",
  "relatime",
  "norelatime",
  "strictatime",
  "nostrictatime",
];

/** Propagation options, which any mount takes. */
const PROPAGATION = [
  "private",
  "rprivate",
  "shared",
  "rshared",
  "slave",
  "rslave",
  "unbindable",
  "runbindable",
];

/** The recursive attributes of runtime-spec: `rro`, `rnosuid`, ..., `rnosymfollow`. */
const RECURSIVE = [...PER_MOUNT, ...ATIME, "nosymfollow", "symfollow"].map((name) => `r${name}`);

/**
 * The options asking for an id-mapped bind: `idmap` maps the bound mount, `ridmap` every
 * mount of an `rbind` too. Neither goes to mount(2).
 */
export const IDMAP_OPTIONS: ReadonlySet<string> = new Set(["idmap", "ridmap"]);

/** Option names that map to mount flags or propagation modes rather than filesystem data. */
export const MOUNT_FLAGS: ReadonlySet<string> = new Set([
  ...PER_MOUNT,
  "sync",
  "async",
  "dirsync",
  "remount",
  "mand",
  "nomand",
  ...ATIME,
  "bind",
  "rbind",
  ...PROPAGATION,
  "nosymfollow",
  "symfollow",
  "lazytime",
  "nolazytime",
  "iversion",
  "noiversion",
  "acl",
  "noacl",
  "silent",
  "loud",
  "defaults",
  ...RECURSIVE,
  ...IDMAP_OPTIONS,
]);

/**
 * The options a bind mount takes: it gets no filesystem data and no superblock flags
 * (`sync`, `mand`, `lazytime`, ...), only per-mount attributes, so anything else would be
 * ignored by the kernel and is refused instead.
 */
export const BIND_MOUNT_OPTIONS: ReadonlySet<string> = new Set([
  ...PER_MOUNT,
  ...ATIME,
  "nosymfollow",
  "symfollow",
  "bind",
  "rbind",
  "defaults",
  ...PROPAGATION,
  ...RECURSIVE,
  ...IDMAP_OPTIONS,
]);

/**
 * The options a cgroup (or cgroup2) mount takes: cell mounts each hierarchy (or binds the
 * container's cgroup) with these flags only.
 */
export const CGROUP_MOUNT_OPTIONS: ReadonlySet<string> = new Set([
  ...PER_MOUNT,
  "relatime",
  "defaults",
  ...PROPAGATION,
  ...RECURSIVE,
]);

/** The option asking for a tmpfs filled with the target's old content (runc's `tmpcopyup`). */
export const TMPCOPYUP = "tmpcopyup";

/** Mount options split into flag names and filesystem data. */
export interface SplitMountOptions {
  /** Names found in {@linkcode MOUNT_FLAGS}, in order. */
  flags: string[];
  /** Everything else, in order; join with `,` for the `data` argument of `mount(2)`. */
  data: string[];
}

/** Splits validated mount options into flag names and filesystem data. */
export function splitMountOptions(options: readonly string[]): SplitMountOptions {
  const flags: string[] = [];
  const data: string[] = [];
  for (const option of options) (MOUNT_FLAGS.has(option) ? flags : data).push(option);
  return { flags, data };
}

/** Whether the options ask for a bind mount (`bind` or `rbind`). */
export function isBindMount(type: string | undefined, options: readonly string[]): boolean {
  return type === "bind" || options.includes("bind") || options.includes("rbind");
}
