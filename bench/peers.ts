/**
 * Helpers to time the peer OCI runtimes, runc and crun, on the same bundle as cell, so the
 * bench can put cell's numbers next to theirs.
 *
 * Host notes (found on the cgroup v1 hybrid dev VM, runc 1.1.5, crun 1.8.1):
 *
 * - runc runs a busybox bundle from {@linkcode peerBundleConfig} as is.
 * - crun refuses: `crun run` exits 1 with "cgroups in hybrid mode not supported, drop all
 *   controllers from cgroupv2". In hybrid mode (a tmpfs at /sys/fs/cgroup with the cgroup2
 *   hierarchy at /sys/fs/cgroup/unified) crun requires `unified/cgroup.controllers` to be
 *   empty, and on that VM it lists `hugetlb`: the kernel has the controller but nothing mounted
 *   a v1 hierarchy for it, so it stays on the cgroup2 side. `--cgroup-manager=disabled` does
 *   not help; crun checks the layout regardless. Mounting a v1 hugetlb hierarchy at
 *   /sys/fs/cgroup/hugetlb moves the controller over, empties `cgroup.controllers`, and crun
 *   then runs the bundle. {@linkcode preparePeers} does exactly that, for whatever controllers
 *   the cgroup2 side holds, and only when it holds any.
 * - Without a `cgroupsPath` in the config, both runtimes create a cgroup named after the
 *   container id in every hierarchy. runc puts it under its own cgroup (on the VM the memory
 *   one is /process_api/<hash>, not the root), crun at the root of each hierarchy, so looking
 *   for leftovers means walking the hierarchies, not just their top level. Both remove the
 *   cgroups and the state directory when `run` returns.
 *
 * @module
 */

import { join } from "node:path";
import { defaultConfig } from "../src/config/defaults.ts";
import { mountV1, unifiedControllers, unmountV1 } from "../tools/hybrid_host.ts";

/** The peer runtimes {@linkcode timePeer} knows. */
export type PeerRuntime = "runc" | "crun";

/** Order statistics of a set of timings, in the unit of the input. */
export interface TimingSummary {
  /** The 50th percentile. */
  median: number;
  /** The 10th percentile. */
  p10: number;
  /** The 90th percentile. */
  p90: number;
  /** The arithmetic mean. */
  mean: number;
}

const CGROUP_ROOT = "/sys/fs/cgroup";
const UNIFIED = `${CGROUP_ROOT}/unified`;

/**
 * Makes the host acceptable to crun (runc needs nothing). On a cgroup v1 hybrid host whose
 * cgroup2 hierarchy still holds controllers (on the dev VM: `hugetlb`), mounts a v1 hierarchy
 * for each of them at `/sys/fs/cgroup/<controller>`, which moves the controller off the
 * cgroup2 side. If `/sys/fs/cgroup` is mounted read-only, it is remounted read-write for the
 * `mkdir` and back to read-only afterwards, and a note is printed to stderr. Does nothing on
 * pure cgroup v1 or v2 hosts, or when it has been done already. Needs root.
 *
 * The change is undone by the function it returns (the bench calls it when it ends), which
 * unmounts those hierarchies and removes the mount points it made, so the controllers go
 * back to the cgroup2 side and the host is as it was.
 *
 * @example Before timing crun
 * ```ts ignore
 * const restore = await preparePeers();
 * try {
 *   const times = await timePeer("crun", bundleDir, 20);
 * } finally {
 *   await restore();
 * }
 * ```
 *
 * @returns A function that puts the host back as it was.
 * @throws {Error} If not root, if a mount fails, or if controllers remain on the cgroup2 side.
 */
export async function preparePeers(): Promise<() => Promise<void>> {
  const mounts = await readMountInfo();
  const top = mounts.find((m) => m.mountPoint === CGROUP_ROOT);
  const unified = mounts.find((m) => m.mountPoint === UNIFIED && m.fsType === "cgroup2");
  // Unified (pure v2) hosts and pure v1 hosts are fine for crun.
  const nothing = () => Promise.resolve();
  if (top?.fsType !== "tmpfs" || unified === undefined) return nothing;

  const controllers = unifiedControllers(UNIFIED);
  if (controllers.length === 0) return nothing;
  if (Deno.uid() !== 0) {
    throw new Error(
      `crun refuses this host: ${UNIFIED} holds ${controllers.join(", ")}; ` +
        "run as root so they can be mounted as cgroup v1 hierarchies",
    );
  }

  const missing: string[] = [];
  for (const controller of controllers) {
    const mountPoint = join(CGROUP_ROOT, controller);
    if (!(await isDirectory(mountPoint))) missing.push(mountPoint);
  }
  const readOnly = missing.length > 0 && top.options.split(",").includes("ro");
  if (readOnly) {
    console.error(`preparePeers: remounting ${CGROUP_ROOT} read-write to add mount points`);
    await run("mount", ["-o", "remount,rw", CGROUP_ROOT]);
  }
  try {
    for (const mountPoint of missing) await Deno.mkdir(mountPoint);
  } finally {
    if (readOnly) {
      await run("mount", ["-o", "remount,ro", CGROUP_ROOT]);
      console.error(`preparePeers: remounted ${CGROUP_ROOT} read-only again`);
    }
  }
  const mounted: [string, string][] = [];
  const restore = async () => {
    for (const [controller, mountPoint] of mounted.reverse()) {
      await unmountV1(controller, mountPoint);
      console.error(`preparePeers: unmounted ${mountPoint}; ${controller} is back in cgroup2`);
    }
    if (missing.length === 0) return;
    if (readOnly) await run("mount", ["-o", "remount,rw", CGROUP_ROOT]);
    try {
      for (const mountPoint of missing) await Deno.remove(mountPoint);
    } finally {
      if (readOnly) await run("mount", ["-o", "remount,ro", CGROUP_ROOT]);
    }
  };
  try {
    for (const controller of controllers) {
      const mountPoint = join(CGROUP_ROOT, controller);
      await mountV1(controller, mountPoint);
      mounted.push([controller, mountPoint]);
      console.error(`preparePeers: mounted the cgroup v1 ${controller} hierarchy at ${mountPoint}`);
    }
    const left = unifiedControllers(UNIFIED);
    if (left.length > 0) {
      throw new Error(`${UNIFIED}/cgroup.controllers still lists ${left.join(", ")}`);
    }
  } catch (e) {
    await restore();
    throw e;
  }
  return restore;
}

/**
 * An OCI runtime configuration for runc and crun that runs `args` in a busybox rootfs. It is
 * `runc spec`'s default (runc 1.1.5) adapted: no terminal, the given args and root path, a
 * cgroup namespace added to its pid, network, ipc, uts and mount namespaces, and hostname
 * `peer`. The rest is as `runc spec` writes it: read-only root; /proc, a tmpfs /dev,
 * /dev/pts, /dev/shm, /dev/mqueue, a read-only /sys and /sys/fs/cgroup; its masked and
 * read-only paths; capabilities AUDIT_WRITE, KILL and NET_BIND_SERVICE; noNewPrivileges;
 * RLIMIT_NOFILE 1024; and a device cgroup that denies everything (the runtimes add their
 * default devices on top).
 *
 * @example Write a bundle with it
 * ```ts ignore
 * await bundle(dir, peerBundleConfig("rootfs", ["true"]));
 * ```
 *
 * @param rootfs The root filesystem, absolute or relative to the bundle directory.
 * @param args The process to run, `args[0]` looked up in the container's PATH.
 * @returns The configuration, ready to be written as `config.json`.
 */
export function peerBundleConfig(rootfs: string, args: string[]): object {
  // cell's defaultConfig is what `runc spec` gives (terminal off); all three runtimes
  // read this one file. A fixed cgroupsPath, as engines always pass one, so that each
  // runtime makes the same single cgroup level (runs are sequential).
  const config = defaultConfig({ rootfs, args, hostname: "peer" });
  config.linux!.cgroupsPath = "/cell-bench";
  return config;
}

/**
 * Times `<runtime> --root <state dir> run --bundle <bundleDir> <id>` `runs` times, each with
 * a fresh container id, stdin and stdout null. The time is the wall clock around the whole
 * command, process start-up included: what a user of `runc run` pays. The state root is a
 * fresh temporary directory, removed at the end.
 *
 * Afterwards it checks that nothing was left behind: the state root must be empty, and no
 * cgroup named after one of the ids may exist under `/sys/fs/cgroup`.
 *
 * @example Median of 20 runs
 * ```ts ignore
 * const { median } = summarize(await timePeer("runc", bundleDir, 20));
 * ```
 *
 * @param runtime The peer to run; found on PATH.
 * @param bundleDir The OCI bundle (for example one made with {@linkcode peerBundleConfig}).
 * @param runs How many times to run it.
 * @returns The wall time of each run in milliseconds, in run order.
 * @throws {Error} If a run exits non-zero (the message has its stderr) or leaves state behind.
 */
export async function timePeer(
  runtime: PeerRuntime,
  bundleDir: string,
  runs: number,
  stateParent?: string,
): Promise<number[]> {
  const stateRoot = await Deno.makeTempDir({ prefix: `cell-${runtime}-state-`, dir: stateParent });
  const ids: string[] = [];
  const times: number[] = [];
  try {
    const tag = crypto.randomUUID().slice(0, 8);
    for (let i = 0; i < runs; i++) {
      const id = `cell-bench-${runtime}-${tag}-${i}`;
      ids.push(id);
      const command = new Deno.Command(runtime, {
        args: ["--root", stateRoot, "run", "--bundle", bundleDir, id],
        stdin: "null",
        stdout: "null",
        stderr: "piped",
      });
      const start = performance.now();
      const out = await command.output();
      const elapsed = performance.now() - start;
      if (out.code !== 0) {
        const stderr = new TextDecoder().decode(out.stderr).trim();
        throw new Error(`${runtime} run ${id} exited with ${out.code}: ${stderr}`);
      }
      times.push(elapsed);
    }
    await checkNothingLeft(runtime, stateRoot, ids);
  } finally {
    await Deno.remove(stateRoot, { recursive: true });
  }
  return times;
}

/**
 * Summarizes timings: 10th, 50th and 90th percentiles (linear interpolation between the
 * closest ranks) and the mean.
 *
 * @example
 * ```ts
 * import { summarize } from "./peers.ts";
 * const s = summarize([3, 1, 2]);
 * if (s.median !== 2 || s.mean !== 2) throw new Error("unexpected");
 * ```
 *
 * @param times The samples; not modified.
 * @returns The summary.
 * @throws {RangeError} If `times` is empty.
 */
export function summarize(times: number[]): TimingSummary {
  if (times.length === 0) throw new RangeError("summarize: no samples");
  const sorted = [...times].sort((a, b) => a - b);
  const at = (q: number): number => {
    const rank = q * (sorted.length - 1);
    const lo = Math.floor(rank);
    const hi = Math.ceil(rank);
    return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
  };
  const mean = sorted.reduce((sum, t) => sum + t, 0) / sorted.length;
  return { median: at(0.5), p10: at(0.1), p90: at(0.9), mean };
}

/** Throws if the runtime left container state or cgroups named after `ids`. */
async function checkNothingLeft(runtime: string, stateRoot: string, ids: string[]): Promise<void> {
  const leftovers: string[] = [];
  for await (const entry of Deno.readDir(stateRoot)) {
    leftovers.push(join(stateRoot, entry.name));
  }
  const wanted = new Set([...ids, "cell-bench"]);
  await findCgroups(CGROUP_ROOT, wanted, leftovers);
  if (leftovers.length > 0) {
    throw new Error(`${runtime} left state behind: ${leftovers.join(", ")}`);
  }
}

/** Appends to `found` every directory under `dir` whose name is in `names`. */
async function findCgroups(dir: string, names: Set<string>, found: string[]): Promise<void> {
  let entries: Deno.DirEntry[];
  try {
    entries = await Array.fromAsync(Deno.readDir(dir));
  } catch (e) {
    // A cgroup removed while walking, or a hierarchy root we may not read.
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.PermissionDenied) return;
    throw e;
  }
  for (const entry of entries) {
    if (!entry.isDirectory) continue; // skips symlinks such as cpu -> cpu,cpuacct
    const path = join(dir, entry.name);
    if (names.has(entry.name)) found.push(path);
    await findCgroups(path, names, found);
  }
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isDirectory;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

interface MountInfo {
  mountPoint: string;
  options: string;
  fsType: string;
}

/** The mount table of this process, from /proc/self/mountinfo. */
async function readMountInfo(): Promise<MountInfo[]> {
  const text = await Deno.readTextFile("/proc/self/mountinfo");
  const mounts: MountInfo[] = [];
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const fields = line.split(" ");
    const dash = fields.indexOf("-");
    if (dash < 6) continue;
    mounts.push({
      mountPoint: unescapeOctal(fields[4]),
      options: fields[5],
      fsType: fields[dash + 1],
    });
  }
  return mounts;
}

/** Decodes the `\040`-style escapes of mountinfo fields. */
function unescapeOctal(field: string): string {
  return field.replace(
    /\\([0-7]{3})/g,
    (_, octal: string) => String.fromCharCode(parseInt(octal, 8)),
  );
}

/** Runs a command to completion; throws with its stderr if it fails. */
async function run(program: string, args: string[]): Promise<void> {
  const out = await new Deno.Command(program, {
    args,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!out.success) {
    const stderr = new TextDecoder().decode(out.stderr).trim();
    throw new Error(`${program} ${args.join(" ")} failed (${out.code}): ${stderr}`);
  }
}
