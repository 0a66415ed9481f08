/**
 * Test fixtures: a minimal root filesystem made from Debian's statically linked busybox, and
 * OCI bundles that use it.
 *
 * @module
 */

import { join, resolve } from "node:path";

/** Where Debian's busybox-static package installs the binary. */
const HOST_BUSYBOX = "/bin/busybox";

/** Written last by {@linkcode busyboxRootfs}; its presence means the rootfs is complete. */
const MARKER = ".cell-rootfs-ok";

const INSTALL_HINT = "install Debian's busybox-static (sudo tools/setup.sh)";

/** Empty directories every rootfs gets, with their modes. */
const DIRS: ReadonlyArray<readonly [string, number]> = [
  ["bin", 0o755],
  ["dev", 0o755],
  ["etc", 0o755],
  ["proc", 0o555],
  ["root", 0o700],
  ["sys", 0o555],
  ["tmp", 0o1777],
  ["usr", 0o755],
];

/**
 * Directories that are symlinks to `bin`, so that every usual PATH entry finds the applets.
 * The targets are relative so that the links resolve the same inside the container and when
 * the rootfs is inspected from the host.
 */
const DIR_LINKS: ReadonlyArray<readonly [string, string]> = [
  ["sbin", "bin"],
  ["usr/bin", "../bin"],
  ["usr/sbin", "../bin"],
];

const PASSWD = "root:x:0:0:root:/root:/bin/sh\n" +
  "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n";
const GROUP = "root:x:0:\nnogroup:x:65534:\n";

/**
 * Builds a minimal root filesystem in `dir` from the host's `/bin/busybox` (Debian's
 * busybox-static): the binary at `bin/busybox`, a `bin/<applet>` symlink for every applet it
 * lists, `sbin`, `usr/bin` and `usr/sbin` as links to `bin`, empty `proc`, `sys`, `dev`,
 * `tmp`, `root`, and an `etc/passwd` and `etc/group` with root and nobody.
 *
 * Idempotent and quick: when `dir/.cell-rootfs-ok` exists (it is written last) nothing is
 * done, and a build that was interrupted is completed by the next call. Two processes may
 * build the same directory at the same time.
 *
 * @example Build a rootfs for a test
 * ```ts ignore
 * const rootfs = await busyboxRootfs(await Deno.makeTempDir());
 * ```
 *
 * @param dir The directory to fill; created if missing.
 * @returns The absolute path of `dir`.
 * @throws {Error} If `/bin/busybox` is missing or is not a static binary.
 */
export async function busyboxRootfs(dir: string): Promise<string> {
  const root = resolve(dir);
  if (await exists(join(root, MARKER))) return root;

  await checkStaticBusybox();
  const applets = await listApplets();

  await Deno.mkdir(root, { recursive: true });
  for (const [name, mode] of DIRS) {
    const path = join(root, name);
    await Deno.mkdir(path, { recursive: true });
    await Deno.chmod(path, mode);
  }

  // Copy under a private name, then rename: a concurrent builder never sees half a binary.
  const tmpBinary = join(root, "bin", `.busybox.${Deno.pid}.${crypto.randomUUID()}`);
  await Deno.copyFile(HOST_BUSYBOX, tmpBinary);
  await Deno.chmod(tmpBinary, 0o755);
  await Deno.rename(tmpBinary, join(root, "bin", "busybox"));

  for (const applet of applets) {
    await ensureSymlink("busybox", join(root, "bin", applet));
  }
  for (const [name, target] of DIR_LINKS) {
    await ensureSymlink(target, join(root, name));
  }

  await Deno.writeTextFile(join(root, "etc", "passwd"), PASSWD);
  await Deno.writeTextFile(join(root, "etc", "group"), GROUP);
  await Deno.writeTextFile(join(root, MARKER), "");
  return root;
}

/**
 * Creates an OCI bundle in `dir`: a busybox root filesystem at `dir/rootfs` (see
 * {@linkcode busyboxRootfs}) and `config` written to `dir/config.json`. The config is written
 * as given, so its `root.path` should be `"rootfs"` (or the absolute path).
 *
 * @example Build a bundle
 * ```ts ignore
 * const dir = await bundle(await Deno.makeTempDir(), config);
 * ```
 *
 * @param dir The bundle directory; created if missing.
 * @param config The OCI runtime configuration to write as `config.json`.
 * @returns The absolute path of the bundle directory.
 */
export async function bundle(dir: string, config: object): Promise<string> {
  const root = resolve(dir);
  await busyboxRootfs(join(root, "rootfs"));
  await Deno.writeTextFile(join(root, "config.json"), JSON.stringify(config, null, 2) + "\n");
  return root;
}

/** The applet names `busybox --list` prints, except `busybox` itself. */
async function listApplets(): Promise<string[]> {
  const out = await new Deno.Command(HOST_BUSYBOX, {
    args: ["--list"],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(
      `${HOST_BUSYBOX} --list failed (${out.code}): ${new TextDecoder().decode(out.stderr)}`,
    );
  }
  return new TextDecoder().decode(out.stdout).split("\n")
    .map((line) => line.trim())
    .filter((name) => name !== "" && name !== "busybox" && !name.includes("/"));
}

/**
 * Throws unless the host busybox exists and is statically linked. A dynamically linked
 * busybox (Debian's plain `busybox` package) would not run in a rootfs without its libraries.
 */
async function checkStaticBusybox(): Promise<void> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(HOST_BUSYBOX, { read: true });
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new Error(`${HOST_BUSYBOX} is missing: ${INSTALL_HINT}`, { cause: e });
    }
    throw e;
  }
  try {
    if (await hasInterpreter(file)) {
      throw new Error(`${HOST_BUSYBOX} is dynamically linked: ${INSTALL_HINT}`);
    }
  } finally {
    file.close();
  }
}

/** Whether an ELF file has a PT_INTERP program header, i.e. is dynamically linked. */
async function hasInterpreter(file: Deno.FsFile): Promise<boolean> {
  const PT_INTERP = 3;
  const header = await readAt(file, 0, 64);
  if (header.length < 52 || header[0] !== 0x7f || header[1] !== 0x45) return false;
  const is64 = header[4] === 2;
  const little = header[5] === 1;
  const view = new DataView(header.buffer, header.byteOffset, header.byteLength);
  const phoff = is64 ? Number(view.getBigUint64(0x20, little)) : view.getUint32(0x1c, little);
  const phentsize = view.getUint16(is64 ? 0x36 : 0x2a, little);
  const phnum = view.getUint16(is64 ? 0x38 : 0x2c, little);
  const table = await readAt(file, phoff, phentsize * phnum);
  const tableView = new DataView(table.buffer, table.byteOffset, table.byteLength);
  for (let i = 0; (i + 1) * phentsize <= table.length; i++) {
    if (tableView.getUint32(i * phentsize, little) === PT_INTERP) return true;
  }
  return false;
}

/** Reads up to `length` bytes at `offset`; fewer at end of file. */
async function readAt(file: Deno.FsFile, offset: number, length: number): Promise<Uint8Array> {
  await file.seek(offset, Deno.SeekMode.Start);
  const buf = new Uint8Array(length);
  let filled = 0;
  while (filled < length) {
    const n = await file.read(buf.subarray(filled));
    if (n === null) break;
    filled += n;
  }
  return buf.subarray(0, filled);
}

/** Makes `path` a symlink to `target`, replacing whatever else is there. */
async function ensureSymlink(target: string, path: string): Promise<void> {
  for (;;) {
    try {
      await Deno.symlink(target, path);
      return;
    } catch (e) {
      if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
    }
    try {
      if ((await Deno.readLink(path)) === target) return;
    } catch {
      // Not a symlink (or gone again): replace it below.
    }
    await Deno.remove(path, { recursive: true }).catch((e) => {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    });
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}
