/**
 * The guest's initramfs, in two cpio layers the kernel unpacks one after the other:
 *
 * - the base layer (cached, rebuilt when an input changes): busybox with its applet links,
 *   the deno binary (and getconf) with the shared libraries they load, the kernel modules
 *   the guest loads, /etc basics, /dev/console and /init;
 * - the repo layer (rebuilt for every run, it is small): the repository tree at /cell
 *   (without .git, caches and build outputs other than zig-out/lib/libcell.so) and the
 *   arguments the guest passes to `deno`, one a line, in /cell-vm/args.
 *
 * @module
 */

import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { CpioWriter } from "./cpio.ts";
import type { Kernel } from "./kernel.ts";
import { CACHE_DIR, exists, output, REPO_ROOT, writeAtomic } from "./host.ts";

/** Bump when the base layer's layout changes, to rebuild cached layers. */
const BASE_FORMAT = 1;

/** The busybox the guest and the test rootfs use (Debian's busybox-static). */
const BUSYBOX = "/bin/busybox";

/** Where deno lives in the guest. */
const GUEST_DENO = "usr/local/bin/deno";

/**
 * Host programs the guest gets at the same path (tests call them), with their libraries:
 * apparmor_parser loads the AppArmor profile of tests/v2/apparmor_test.ts.
 */
const HOST_PROGRAMS = ["/usr/bin/getconf", "/usr/sbin/apparmor_parser"];

/** Where the kernel modules go in the guest; /init loads every *.ko there, in name order. */
const GUEST_MODULES = "lib/modules/cell-vm";

/** Where the repository is in the guest. */
export const GUEST_REPO = "/cell";

/** Directory names never copied into the guest, at any depth. */
const SKIP_DIRS = new Set([".git", ".zig-cache", "node_modules", "zig-out"]);

/** Build outputs copied although their directory is skipped. */
const KEEP_OUTPUTS = ["zig-out/lib/libcell.so"];

const INIT = fileURLToPath(new URL("./init.sh", import.meta.url));

const ETC_FILES: Record<string, string> = {
  "etc/passwd":
    "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
  "etc/group": "root:x:0:\ntty:x:5:\nnogroup:x:65534:\n",
  "etc/hostname": "cell-vm\n",
  "etc/hosts": "127.0.0.1 localhost cell-vm\n::1 localhost\n",
  "etc/nsswitch.conf": "passwd: files\ngroup: files\nhosts: files\n",
};

/** Empty directories of the guest root, with their modes. */
const GUEST_DIRS: ReadonlyArray<readonly [string, number]> = [
  ["dev", 0o755],
  ["proc", 0o555],
  ["sys", 0o555],
  ["tmp", 0o1777],
  ["var/tmp", 0o1777],
  ["run", 0o755],
  ["root", 0o700],
  ["newroot", 0o755],
];

/**
 * Options of the layer builders. The layers are not compressed: under TCG the kernel
 * inflates a gzipped base layer 3 s slower than it copies the plain one.
 */
export interface LayerOptions {
  /** The cache directory (default {@linkcode CACHE_DIR}). */
  cacheDir?: string;
}

/**
 * Returns the path of the base layer, building it first when it is missing or one of its
 * inputs (deno, busybox, the libraries, the kernel's modules, init.sh, the layout) changed
 * since it was built.
 *
 * @throws {Error} If deno or a static busybox is missing.
 */
export async function ensureBaseLayer(
  kernel: Pick<Kernel, "modules">,
  options: LayerOptions = {},
): Promise<string> {
  const dir = options.cacheDir ?? CACHE_DIR;
  await Deno.mkdir(dir, { recursive: true });
  const path = join(dir, "base.cpio");
  const stampPath = `${path}.stamp`;
  const deno = Deno.realPathSync(Deno.execPath());
  const libs = new Map<string, string>();
  for (const program of HOST_PROGRAMS) {
    if (!(await exists(program))) {
      throw new Error(`${program} is missing: install it with sudo tools/setup.sh --with-vm`);
    }
  }
  for (const program of [deno, ...HOST_PROGRAMS]) {
    for (const [guest, host] of await sharedLibraries(program)) libs.set(guest, host);
  }
  const stamp = JSON.stringify({
    format: BASE_FORMAT,
    init: await Deno.readTextFile(INIT),
    files: [deno, BUSYBOX, ...HOST_PROGRAMS, ...libs.values(), ...kernel.modules].map(fingerprint),
  });
  if (await exists(path) && (await Deno.readTextFile(stampPath).catch(() => "")) === stamp) {
    return path;
  }
  await checkStaticBusybox();
  const applets = (await output(BUSYBOX, ["--list-full"])).split("\n").map((l) => l.trim())
    .filter((l) => l !== "" && l !== "bin/busybox");

  const tmp = `${path}.${Deno.pid}.tmp`;
  await writeArchive(tmp, async (cpio) => {
    for (const [name, mode] of GUEST_DIRS) await cpio.dir(name, mode);
    await cpio.charDevice("dev/console", 5, 1, 0o600);
    await cpio.copy("bin/busybox", BUSYBOX, 0o755);
    for (const applet of applets) await cpio.symlink(applet, "/bin/busybox");
    await cpio.copy(GUEST_DENO, deno, 0o755);
    for (const program of HOST_PROGRAMS) await cpio.copy(program, program);
    for (const [guest, host] of libs) await cpio.copy(guest, host);
    for (const module of kernel.modules) {
      await cpio.copy(`${GUEST_MODULES}/${basename(module)}`, module, 0o644);
    }
    for (const [name, text] of Object.entries(ETC_FILES)) {
      await cpio.file(name, new TextEncoder().encode(text));
    }
    await cpio.copy("init", INIT, 0o755);
  });
  await Deno.rename(tmp, path);
  await writeAtomic(stampPath, stamp);
  return path;
}

/**
 * Writes the repo layer to `path`: the repository at {@linkcode GUEST_REPO}, `denoArgs`
 * in /cell-vm/args and, when given, the seconds after which the guest reports what every
 * process waits on (a hung test explained, not only timed out) in /cell-vm/watchdog.
 *
 * @throws {Error} If zig-out/lib/libcell.so has not been built.
 */
export async function writeRepoLayer(
  path: string,
  denoArgs: readonly string[],
  watchdogS?: number,
): Promise<void> {
  for (const output of KEEP_OUTPUTS) {
    if (!await exists(join(REPO_ROOT, output))) {
      throw new Error(`${output} is missing: run deno task build`);
    }
  }
  const guestRoot = GUEST_REPO.slice(1);
  await writeArchive(path, async (cpio) => {
    await cpio.dir(guestRoot);
    await copyTree(cpio, REPO_ROOT, guestRoot);
    for (const output of KEEP_OUTPUTS) {
      await cpio.copy(`${guestRoot}/${output}`, join(REPO_ROOT, output));
    }
    const args = denoArgs.map((arg) => {
      if (arg.includes("\n")) throw new Error(`a guest argument has a newline: ${arg}`);
      return arg + "\n";
    }).join("");
    await cpio.file("cell-vm/args", new TextEncoder().encode(args));
    if (watchdogS !== undefined) {
      await cpio.file("cell-vm/watchdog", new TextEncoder().encode(`${Math.floor(watchdogS)}\n`));
    }
  });
}

/**
 * Writes a complete initrd to `path`: the base layer `base` (see
 * {@linkcode ensureBaseLayer}) followed by a fresh repo layer with `denoArgs` (and the
 * watchdog's seconds, see {@linkcode writeRepoLayer}).
 */
export async function buildInitrd(
  path: string,
  base: string,
  denoArgs: readonly string[],
  watchdogS?: number,
): Promise<void> {
  const repo = `${path}.repo`;
  try {
    await writeRepoLayer(repo, denoArgs, watchdogS);
    const out = await Deno.open(path, { write: true, create: true, truncate: true });
    try {
      for (const part of [base, repo]) {
        const file = await Deno.open(part, { read: true });
        await file.readable.pipeTo(out.writable, { preventClose: true });
      }
    } finally {
      out.close();
    }
  } finally {
    await Deno.remove(repo).catch(() => {});
  }
}

/** Opens `path`, runs `fill` with a cpio writer on it, and finishes the archive. */
async function writeArchive(
  path: string,
  fill: (cpio: CpioWriter) => Promise<void>,
): Promise<void> {
  const file = await Deno.open(path, { write: true, create: true, truncate: true });
  const writer = file.writable.getWriter();
  try {
    const cpio = new CpioWriter(writer);
    await fill(cpio);
    await cpio.finish();
  } catch (e) {
    await writer.abort(e).catch(() => {});
    await Deno.remove(path).catch(() => {});
    throw e;
  }
  await writer.close();
}

/** Adds the files below `hostDir` at `guestDir`, skipping {@linkcode SKIP_DIRS}. */
async function copyTree(cpio: CpioWriter, hostDir: string, guestDir: string): Promise<void> {
  const entries = [];
  for await (const entry of Deno.readDir(hostDir)) entries.push(entry);
  entries.sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  for (const entry of entries) {
    const host = join(hostDir, entry.name);
    const guest = `${guestDir}/${entry.name}`;
    if (entry.isSymlink) {
      await cpio.symlink(guest, await Deno.readLink(host));
    } else if (entry.isDirectory) {
      if (SKIP_DIRS.has(entry.name)) continue;
      await cpio.dir(guest, (await Deno.stat(host)).mode! & 0o7777);
      await copyTree(cpio, host, guest);
    } else if (entry.isFile) {
      await cpio.copy(guest, host);
    }
  }
}

/**
 * The shared libraries `binary` loads, as [guest path, host file] pairs: each at the path
 * ldd names (the loader at /lib64/...), with the contents of the file that path resolves to.
 */
async function sharedLibraries(binary: string): Promise<Array<[string, string]>> {
  const libs: Array<[string, string]> = [];
  for (const line of (await output("ldd", [binary])).split("\n")) {
    const match = line.match(/(?:=>\s*)?(\/\S+)\s+\(0x/);
    if (match) libs.push([match[1], await Deno.realPath(match[1])]);
  }
  if (!libs.some(([guest]) => guest.includes("ld-linux"))) {
    throw new Error(`ldd ${binary} names no dynamic loader`);
  }
  return libs;
}

/** Fails unless /bin/busybox is there and statically linked (the guest and its rootfs use it). */
async function checkStaticBusybox(): Promise<void> {
  const hint = "install Debian's busybox-static: sudo tools/setup.sh --with-vm";
  if (!await exists(BUSYBOX)) throw new Error(`${BUSYBOX} is missing: ${hint}`);
  const ldd = await new Deno.Command("ldd", { args: [BUSYBOX], stdout: "piped", stderr: "piped" })
    .output();
  if (ldd.success) throw new Error(`${BUSYBOX} is dynamically linked: ${hint}`);
}

/** What identifies a version of a host file: its path, size and mtime. */
function fingerprint(path: string): string {
  const info = Deno.statSync(path);
  return `${path}:${info.size}:${info.mtime?.getTime()}`;
}
