/**
 * Mount options to mount(2) flags, and the propagation changes that take a call of
 * their own.
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
  NOATIME: 1024,
  NODIRATIME: 2048,
  BIND: 4096,
  REC: 16384,
  UNBINDABLE: 1 << 17,
  PRIVATE: 1 << 18,
  SLAVE: 1 << 19,
  SHARED: 1 << 20,
  RELATIME: 1 << 21,
  STRICTATIME: 1 << 24,
} as const;

export { MS };

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
  bind: MS.BIND,
  rbind: MS.BIND | MS.REC,
  remount: MS.REMOUNT,
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

/** Every mount option name cell understands (for `cell features`). */
export function mountOptionNames(): string[] {
  return [...Object.keys(SET), ...Object.keys(CLEAR), ...Object.keys(PROPAGATION)];
}

/** Flags, propagation changes and data of one mount's options. */
export interface ParsedOptions {
  /** mount(2) flags. */
  flags: number;
  /** Propagation flags to apply after the mount, in order. */
  propagation: number[];
  /** Filesystem data, comma-joined. */
  data: string;
}

/** Parses validated OCI mount options. */
export function parseMountOptions(options: readonly string[]): ParsedOptions {
  let flags = 0;
  const propagation: number[] = [];
  const data: string[] = [];
  for (const option of options) {
    if (option in SET) flags |= SET[option];
    else if (option in CLEAR) flags &= ~CLEAR[option];
    else if (option in PROPAGATION) propagation.push(PROPAGATION[option]);
    else data.push(option);
  }
  return { flags, propagation, data: data.join(",") };
}
