/**
 * A writer of "newc" cpio archives, the format the Linux kernel unpacks as an initramfs.
 * Entries are owned by root; parent directories are added on demand, because the kernel
 * creates each entry with a plain mkdir/open and never makes a missing parent.
 *
 * @module
 */

const MAGIC = "070701";
const TRAILER = "TRAILER!!!";
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;

const encoder = new TextEncoder();

/** What {@linkcode CpioWriter} writes to: a stream writer, or anything with `write`. */
export interface ByteSink {
  /** Takes one chunk; the writer awaits it before the next. */
  write(chunk: Uint8Array<ArrayBuffer>): Promise<void>;
}

/** Metadata of one archive entry. */
interface Entry {
  /** Path inside the archive, relative ("bin/sh"). */
  name: string;
  /** File type and permission bits. */
  mode: number;
  /** Size of the data that follows the header. */
  size: number;
  /** Modification time, seconds since the epoch. */
  mtime?: number;
  /** Device number, for character devices. */
  rdev?: readonly [number, number];
}

/**
 * Writes a newc cpio archive to a sink, entry by entry.
 *
 * @example Write a one-file archive
 * ```ts ignore
 * const out = await Deno.open("initrd.cpio", { write: true, create: true, truncate: true });
 * const writer = out.writable.getWriter();
 * const cpio = new CpioWriter(writer);
 * await cpio.file("init", new TextEncoder().encode("#!/bin/sh\n"), 0o755);
 * await cpio.finish();
 * await writer.close();
 * ```
 */
export class CpioWriter {
  #sink: ByteSink;
  #ino = 1;
  #dirs = new Set<string>([""]);

  /** Writes to `sink`; nothing is written until the first entry. */
  constructor(sink: ByteSink) {
    this.#sink = sink;
  }

  /** Adds a directory (and its missing parents). Repeating one is a no-op. */
  async dir(path: string, mode = 0o755): Promise<void> {
    const name = normalize(path);
    if (this.#dirs.has(name)) return;
    await this.#parents(name);
    this.#dirs.add(name);
    await this.#header({ name, mode: S_IFDIR | mode, size: 0 });
  }

  /** Adds a regular file with the given contents. */
  async file(
    path: string,
    data: Uint8Array<ArrayBuffer>,
    mode = 0o644,
    mtime?: number,
  ): Promise<void> {
    const name = normalize(path);
    await this.#parents(name);
    await this.#header({ name, mode: S_IFREG | mode, size: data.length, mtime });
    await this.#sink.write(data);
    await this.#pad(data.length);
  }

  /**
   * Adds a regular file with the contents of a host file (symlinks followed), streamed.
   * The mode and mtime are the host file's unless `mode` is given.
   */
  async copy(path: string, hostPath: string, mode?: number): Promise<void> {
    const name = normalize(path);
    await this.#parents(name);
    const file = await Deno.open(hostPath, { read: true });
    try {
      const info = await file.stat();
      const perm = mode ?? (info.mode ?? 0o644) & 0o7777;
      const mtime = info.mtime ? Math.floor(info.mtime.getTime() / 1000) : undefined;
      await this.#header({ name, mode: S_IFREG | perm, size: info.size, mtime });
      const buf = new Uint8Array(1 << 20);
      let left = info.size;
      while (left > 0) {
        const n = await file.read(buf.subarray(0, Math.min(buf.length, left)));
        if (n === null) throw new Error(`${hostPath} shrank while it was archived`);
        await this.#sink.write(buf.slice(0, n));
        left -= n;
      }
      await this.#pad(info.size);
    } finally {
      file.close();
    }
  }

  /** Adds a symbolic link at `path` pointing to `target`. */
  async symlink(path: string, target: string): Promise<void> {
    const name = normalize(path);
    await this.#parents(name);
    const data = encoder.encode(target);
    await this.#header({ name, mode: S_IFLNK | 0o777, size: data.length });
    await this.#sink.write(data);
    await this.#pad(data.length);
  }

  /** Adds a character device node (e.g. dev/console, 5:1). */
  async charDevice(path: string, major: number, minor: number, mode = 0o600): Promise<void> {
    const name = normalize(path);
    await this.#parents(name);
    await this.#header({ name, mode: S_IFCHR | mode, size: 0, rdev: [major, minor] });
  }

  /** Writes the trailer; the archive is complete once the sink has taken it. */
  async finish(): Promise<void> {
    await this.#header({ name: TRAILER, mode: 0, size: 0 });
  }

  async #parents(name: string): Promise<void> {
    const slash = name.lastIndexOf("/");
    if (slash > 0) await this.dir(name.slice(0, slash));
  }

  async #header(entry: Entry): Promise<void> {
    const nameBytes = encoder.encode(entry.name + "\0");
    const fields = [
      this.#ino++, // ino
      entry.mode,
      0, // uid
      0, // gid
      (entry.mode & S_IFDIR) === S_IFDIR ? 2 : 1, // nlink
      entry.mtime ?? 0,
      entry.size,
      0, // devmajor
      0, // devminor
      entry.rdev?.[0] ?? 0,
      entry.rdev?.[1] ?? 0,
      nameBytes.length,
      0, // check
    ];
    const text = MAGIC + fields.map((v) => v.toString(16).padStart(8, "0")).join("");
    await this.#sink.write(encoder.encode(text));
    await this.#sink.write(nameBytes);
    await this.#pad(text.length + nameBytes.length);
  }

  async #pad(length: number): Promise<void> {
    const extra = (4 - (length % 4)) % 4;
    if (extra > 0) await this.#sink.write(new Uint8Array(extra));
  }
}

/** "/usr/bin/" and "./usr/bin" become "usr/bin"; ".." is refused. */
function normalize(path: string): string {
  const parts = path.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.includes("..")) throw new Error(`cpio entry ${path} must not contain ".."`);
  if (parts.length === 0) throw new Error(`cpio entry ${JSON.stringify(path)} names the root`);
  return parts.join("/");
}
