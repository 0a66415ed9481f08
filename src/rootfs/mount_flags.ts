/**
 * Mount options to mount(2) flags, the per-mount attributes a bind mount gets with
 * `mount_setattr(2)`, the recursive attributes (`rro`, `rnosuid`, ...) of runtime-spec, and
 * the propagation changes that take a call of their own.
 *
 * @module
 */

const MS = {
  RDONLY: 1,
  NOSUID: 2,
  NODEV: 4,
  NOEXEC: 8,
  SYNCHRONOUS: 16,
  REMOUNT: 32,
  MANDLOCK: 64,
  DIRSYNC: 128,
  NOSYMFOLLOW: 256,
  NOATIME: 1024,
  NODIRATIME: 2048,
  BIND: 4096,
  REC: 16384,
  SILENT: 32768,
  POSIXACL: 1 << 16,
  UNBINDABLE: 1 << 17,
  PRIVATE: 1 << 18,
  SLAVE: 1 << 19,
  SHARED: 1 << 20,
  RELATIME: 1 << 21,
  I_VERSION: 1 << 23,
  STRICTATIME: 1 << 24,
  LAZYTIME: 1 << 25,
} as const;

export { MS };

/** `MOUNT_ATTR_*` of mount_setattr(2). The atime modes are one field (`ATIME_MASK`). */
export const MOUNT_ATTR = {
  RDONLY: 0x1,
  NOSUID: 0x2,
  NODEV: 0x4,
  NOEXEC: 0x8,
  ATIME_MASK: 0x70,
  RELATIME: 0x0,
  NOATIME: 0x10,
  STRICTATIME: 0x20,
  NODIRATIME: 0x80,
  NOSYMFOLLOW: 0x200000,
} as const;

const SET: Record<string, number> = {
  ro: MS.RDONLY,
  nosuid: MS.NOSUID,
  nodev: MS.NODEV,
  noexec: MS.NOEXEC,
  sync: MS.SYNCHRONOUS,
  dirsync: MS.DIRSYNC,
  mand: MS.MANDLOCK,
  noatime: MS.NOATIME,
  nodiratime: MS.NODIRATIME,
  relatime: MS.RELATIME,
  strictatime: MS.STRICTATIME,
  nosymfollow: MS.NOSYMFOLLOW,
  lazytime: MS.LAZYTIME,
  iversion: MS.I_VERSION,
  acl: MS.POSIXACL,
  silent: MS.SILENT,
  bind: MS.BIND,
  rbind: MS.BIND | MS.REC,
  remount: MS.REMOUNT,
  defaults: 0,
};

const CLEAR: Record<string, number> = {
  rw: MS.RDONLY,
  suid: MS.NOSUID,
  dev: MS.NODEV,
  exec: MS.NOEXEC,
  async: MS.SYNCHRONOUS,
  nomand: MS.MANDLOCK,
  atime: MS.NOATIME,
  diratime: MS.NODIRATIME,
  norelatime: MS.RELATIME,
  nostrictatime: MS.STRICTATIME,
  symfollow: MS.NOSYMFOLLOW,
  nolazytime: MS.LAZYTIME,
  noiversion: MS.I_VERSION,
  noacl: MS.POSIXACL,
  loud: MS.SILENT,
};

/** Propagation option → flags for a separate mount call. */
export const PROPAGATION: Record<string, number> = {
  private: MS.PRIVATE,
  rprivate: MS.PRIVATE | MS.REC,
  shared: MS.SHARED,
  rshared: MS.SHARED | MS.REC,
  slave: MS.SLAVE,
  rslave: MS.SLAVE | MS.REC,
  unbindable: MS.UNBINDABLE,
  runbindable: MS.UNBINDABLE | MS.REC,
};

/**
 * A change of mount attributes: bits to set and bits to clear. An atime mode is set with
 * `ATIME_MASK` in `clear` (the kernel wants the whole field replaced).
 */
export interface AttrChange {
  /** `MOUNT_ATTR_*` bits to set. */
  set: number;
  /** `MOUNT_ATTR_*` bits to clear. */
  clear: number;
}

/** Per-mount flags as attributes: what a bind mount (which gets no mount(2) flags) takes. */
const PER_MOUNT: Record<string, { attr: number; clear: boolean }> = {
  ro: { attr: MOUNT_ATTR.RDONLY, clear: false },
  rw: { attr: MOUNT_ATTR.RDONLY, clear: true },
  nosuid: { attr: MOUNT_ATTR.NOSUID, clear: false },
  suid: { attr: MOUNT_ATTR.NOSUID, clear: true },
  nodev: { attr: MOUNT_ATTR.NODEV, clear: false },
  dev: { attr: MOUNT_ATTR.NODEV, clear: true },
  noexec: { attr: MOUNT_ATTR.NOEXEC, clear: false },
  exec: { attr: MOUNT_ATTR.NOEXEC, clear: true },
  nodiratime: { attr: MOUNT_ATTR.NODIRATIME, clear: false },
  diratime: { attr: MOUNT_ATTR.NODIRATIME, clear: true },
  nosymfollow: { attr: MOUNT_ATTR.NOSYMFOLLOW, clear: false },
  symfollow: { attr: MOUNT_ATTR.NOSYMFOLLOW, clear: true },
};

/**
 * The atime options and the mode each leaves, as mount(2) reads them: clearing `noatime`,
 * `relatime` or `strictatime` falls back to the kernel's default, relatime.
 */
const ATIME_MODE: Record<string, number> = {
  noatime: MOUNT_ATTR.NOATIME,
  strictatime: MOUNT_ATTR.STRICTATIME,
  relatime: MOUNT_ATTR.RELATIME,
  atime: MOUNT_ATTR.RELATIME,
  norelatime: MOUNT_ATTR.RELATIME,
  nostrictatime: MOUNT_ATTR.RELATIME,
};

/**
 * The recursive attributes of runtime-spec (`rro`, `rnosuid`, ...): the option without
 * its `r` applied to the mount and every mount under it (mount_setattr with AT_RECURSIVE).
 */
export const RECURSIVE_OPTIONS: readonly string[] = [
  ...Object.keys(PER_MOUNT),
  ...Object.keys(ATIME_MODE),
].map((name) => `r${name}`);

/** Every mount option name cell understands (for `cell features`). */
export function mountOptionNames(): string[] {
  return [
    ...Object.keys(SET),
    ...Object.keys(CLEAR),
    ...Object.keys(PROPAGATION),
    ...RECURSIVE_OPTIONS,
  ];
}

/** Flags, propagation changes and data of one mount's options. */
export interface ParsedOptions {
  /** mount(2) flags. */
  flags: number;
  /** Propagation flags to apply after the mount, in order. */
  propagation: number[];
  /** Filesystem data, comma-joined. */
  data: string;
  /** The per-mount options as attributes (for a bind mount). */
  attrs: AttrChange;
  /** The recursive options (`rro`, ...) as attributes, for the mount and all under it. */
  recursive: AttrChange;
}

/** Folds one per-mount or atime option (its name without any `r`) into `change`. */
function addAttr(change: AttrChange, name: string): boolean {
  const flag = PER_MOUNT[name];
  if (flag) {
    if (flag.clear) {
      change.clear |= flag.attr;
      change.set &= ~flag.attr;
    } else {
      change.set |= flag.attr;
      change.clear &= ~flag.attr;
    }
    return true;
  }
  if (name in ATIME_MODE) {
    change.set = (change.set & ~MOUNT_ATTR.ATIME_MASK) | ATIME_MODE[name];
    change.clear |= MOUNT_ATTR.ATIME_MASK;
    return true;
  }
  return false;
}

/** Parses validated OCI mount options. */
export function parseMountOptions(options: readonly string[]): ParsedOptions {
  let flags = 0;
  const propagation: number[] = [];
  const data: string[] = [];
  const attrs: AttrChange = { set: 0, clear: 0 };
  const recursive: AttrChange = { set: 0, clear: 0 };
  for (const option of options) {
    addAttr(attrs, option);
    if (option in SET) flags |= SET[option];
    else if (option in CLEAR) flags &= ~CLEAR[option];
    else if (option in PROPAGATION) propagation.push(PROPAGATION[option]);
    else if (RECURSIVE_OPTIONS.includes(option)) addAttr(recursive, option.slice(1));
    else data.push(option);
  }
  return { flags, propagation, data: data.join(","), attrs, recursive };
}
