/**
 * The guest kernel: Debian's linux-image-amd64, downloaded with `apt-get download` and
 * unpacked with `dpkg-deb -x` into the VM cache (the host's /boot is never touched). The
 * ELF vmlinux is also extracted from the bzImage (with `xz`), because QEMU boots it through
 * its PVH entry point without the self-decompression that costs 4 s under TCG.
 *
 * @module
 */

import { basename, join } from "node:path";
import { CACHE_DIR, exists, INSTALL_HINT, output } from "./host.ts";

/** The Debian metapackage that depends on the current kernel image. */
const META_PACKAGE = "linux-image-amd64";

/** The magic of an xz stream: where the compressed vmlinux starts in the bzImage. */
const XZ_MAGIC = new Uint8Array([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);

/** Kernel options the guest cannot do without, all built in (the initramfs has no modules). */
const REQUIRED_CONFIG = [
  "CONFIG_BLK_DEV_INITRD",
  "CONFIG_PVH",
  "CONFIG_DEVTMPFS",
  "CONFIG_TMPFS",
  "CONFIG_SERIAL_8250_CONSOLE",
  "CONFIG_CGROUPS",
  "CONFIG_MEMCG",
  "CONFIG_CGROUP_PIDS",
  "CONFIG_CPUSETS",
  "CONFIG_CFS_BANDWIDTH",
  "CONFIG_BLK_CGROUP",
  "CONFIG_USER_NS",
  "CONFIG_PID_NS",
  "CONFIG_NET_NS",
];

/**
 * Modules the guest loads at boot, by their path in the package's /lib/modules/<release>/.
 * fuse gives /dev/fuse, the device the device-rule tests open; it depends on no module.
 */
const MODULES = ["kernel/fs/fuse/fuse.ko"];

/** A kernel ready to boot. */
export interface Kernel {
  /** What to give QEMU's -kernel: the ELF vmlinux when it could be extracted, else the bzImage. */
  image: string;
  /** The bzImage as Debian ships it. */
  bzImage: string;
  /** Its build configuration (Debian's /boot/config-*). */
  config: string;
  /** Its release, e.g. "6.1.0-56-amd64". */
  release: string;
  /** Modules for the guest to load (insmod, in this order). */
  modules: string[];
}

/**
 * Returns the cached guest kernel, downloading and unpacking it first when the cache has
 * none (or when `refresh` is set, to pick up a newer Debian kernel).
 *
 * @throws {Error} If apt cannot find or download the package (saying what to run), or the
 * kernel lacks a built-in option the guest needs.
 */
export async function ensureKernel(
  options: { cacheDir?: string; refresh?: boolean } = {},
): Promise<Kernel> {
  const dir = join(options.cacheDir ?? CACHE_DIR, "kernel");
  const releaseFile = join(dir, "release");
  const modules = MODULES.map((m) => join(dir, "modules", basename(m)));
  const complete = await exists(releaseFile) &&
    (await Promise.all(modules.map((m) => exists(m)))).every((e) => e);
  if (options.refresh || !complete) await download(dir);
  const kernel: Kernel = {
    image: join(dir, "vmlinux"),
    bzImage: join(dir, "vmlinuz"),
    config: join(dir, "config"),
    release: (await Deno.readTextFile(releaseFile)).trim(),
    modules,
  };
  if (!await exists(kernel.image) && !await extractVmlinux(kernel.bzImage, kernel.image)) {
    kernel.image = kernel.bzImage;
  }
  return kernel;
}

/** Downloads the current kernel package; keeps its image, config and MODULES in `dir`. */
async function download(dir: string): Promise<void> {
  const pkg = await currentKernelPackage();
  const tmp = `${dir}.tmp-${Deno.pid}`;
  await Deno.remove(tmp, { recursive: true }).catch(() => {});
  await Deno.mkdir(join(tmp, "out"), { recursive: true });
  try {
    console.error(`vm: downloading ${pkg} (apt-get download)`);
    await output("apt-get", ["download", "-qq", "-o", "APT::Sandbox::User=root", pkg], {
      cwd: tmp,
    }).catch((e) => {
      throw new Error(`cannot download ${pkg}; try: sudo apt-get update (${e.message})`);
    });
    const deb = [...Deno.readDirSync(tmp)].find((e) => e.name.endsWith(".deb"));
    if (!deb) throw new Error(`apt-get download ${pkg} left no .deb in ${tmp}`);
    await output("dpkg-deb", ["-x", join(tmp, deb.name), join(tmp, "x")]);
    const boot = join(tmp, "x", "boot");
    const image = [...Deno.readDirSync(boot)].find((e) => e.name.startsWith("vmlinuz-"));
    if (!image) throw new Error(`${deb.name} has no /boot/vmlinuz-*`);
    const release = image.name.slice("vmlinuz-".length);
    await Deno.rename(join(boot, image.name), join(tmp, "out", "vmlinuz"));
    await Deno.rename(join(boot, `config-${release}`), join(tmp, "out", "config"));
    checkConfig(await Deno.readTextFile(join(tmp, "out", "config")), release);
    await Deno.mkdir(join(tmp, "out", "modules"));
    for (const module of MODULES) {
      const from = join(tmp, "x", "lib", "modules", release, module);
      await Deno.rename(from, join(tmp, "out", "modules", basename(module))).catch((e) => {
        throw new Error(`${deb.name} has no ${module}: ${e.message}`);
      });
    }
    await Deno.writeTextFile(join(tmp, "out", "release"), release + "\n");
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    await Deno.rename(join(tmp, "out"), dir);
  } finally {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
}

/**
 * Writes the ELF vmlinux inside `bzImage` (an xz stream, as Debian builds it) to `out`.
 * Returns false, having said why, when that cannot be done; the bzImage still boots.
 */
async function extractVmlinux(bzImage: string, out: string): Promise<boolean> {
  const data = await Deno.readFile(bzImage);
  const at = indexOf(data, XZ_MAGIC);
  if (at < 0) {
    console.error("vm: the kernel is not xz-compressed: booting the bzImage (slower)");
    return false;
  }
  let xz: Deno.ChildProcess;
  try {
    xz = new Deno.Command("xz", {
      args: ["--decompress", "--stdout", "--single-stream"],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch {
    console.error(`vm: xz is missing, booting the bzImage (slower): ${INSTALL_HINT}`);
    return false;
  }
  const writer = xz.stdin.getWriter();
  const [result] = await Promise.all([
    xz.output(),
    // xz stops reading at the end of the stream: the rest of the bzImage meets a closed pipe.
    writer.write(data.subarray(at)).then(() => writer.close()).catch(() => {}),
  ]);
  const elf = result.stdout;
  if (!result.success || elf[0] !== 0x7f || elf[1] !== 0x45 || elf[2] !== 0x4c) {
    const err = new TextDecoder().decode(result.stderr).trim();
    console.error(`vm: no vmlinux in the bzImage (${err}): booting the bzImage (slower)`);
    return false;
  }
  const tmp = `${out}.${Deno.pid}.tmp`;
  await Deno.writeFile(tmp, elf);
  await Deno.rename(tmp, out);
  return true;
}

/** The offset of `needle` in `data`, or -1. */
function indexOf(data: Uint8Array, needle: Uint8Array): number {
  let at = data.indexOf(needle[0]);
  while (at >= 0 && at + needle.length <= data.length) {
    if (needle.every((b, i) => data[at + i] === b)) return at;
    at = data.indexOf(needle[0], at + 1);
  }
  return -1;
}

/** The versioned image package linux-image-amd64 depends on, e.g. linux-image-6.1.0-56-amd64. */
async function currentKernelPackage(): Promise<string> {
  let depends: string;
  try {
    depends = await output("apt-cache", ["depends", META_PACKAGE]);
  } catch (e) {
    throw new Error(
      `apt knows no ${META_PACKAGE}: run sudo apt-get update (${(e as Error).message}); ` +
        INSTALL_HINT,
    );
  }
  const match = depends.match(/Depends:\s*(linux-image-[^\s<>]+)/);
  if (!match) {
    throw new Error(`apt-cache depends ${META_PACKAGE} names no kernel image: run apt-get update`);
  }
  return match[1];
}

/** Throws unless every option the guest needs is built in (=y). */
function checkConfig(config: string, release: string): void {
  const missing = REQUIRED_CONFIG.filter((opt) => !config.includes(`\n${opt}=y\n`));
  if (missing.length > 0) {
    throw new Error(`kernel ${release} does not build in ${missing.join(", ")}`);
  }
}
