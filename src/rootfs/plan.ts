/**
 * Turns the spec's root, mounts, devices and masked paths into ordered plan ops:
 * propagation, the rootfs bind, each mount (targets resolved inside the rootfs by the
 * native core), /dev nodes and links, the root change, then read-only root, masked
 * and read-only paths.
 *
 * @module
 */

import type { Device, Mount, Spec } from "../config/types.ts";
import { Op, type PlanBuilder } from "../process/plan_builder.ts";
import { TMPCOPYUP } from "../config/mount_options.ts";
import { type AttrChange, MS, parseMountOptions, PROPAGATION } from "./mount_flags.ts";

/** Mount op flags (docs/abi.md). */
const IN_ROOT = 1, MKDIR = 2, MKFILE = 4, NO_SYMLINKS = 8, KEEP_LOCKED = 32, SOURCE_FD = 64;
const REPLACE_LINK = 128;
const PROC_MAGIC = 0x9fa0, SYSFS_MAGIC = 0x62656572, TMPFS_MAGIC = 0x01021994;

/** What the rootfs plan needs to know besides the spec. */
export interface RootfsContext {
  /** A new user namespace: device nodes are bind-mounted from the host, not made. */
  userns: boolean;
  /** A new cgroup namespace: cgroup filesystems are mounted, not bound from the host. */
  cgroupns: boolean;
  /** The container's cgroup directories on the host, by hierarchy (v1) or "unified". */
  cgroupPaths: Record<string, string>;
  /** "v1" or "v2". */
  cgroupMode: "v1" | "v2";
  /** Move the rootfs over / and chroot instead of pivot_root (rootfs on ramfs). */
  noPivotRoot?: boolean;
  /**
   * The caller is the host's root and the child is in a user namespace, whose root may not
   * reach every bind source: the native parent opens them (as runc's mount source fds).
   */
  sourcesByParent?: boolean;
  /** Adds the ops that come after every mount, just before the root change (hooks). */
  beforeRootChange?: () => void;
}

/** How many bind sources one plan may have opened by the parent (docs/abi.md). */
const MAX_SOURCES_BY_PARENT = 64;

/** The standard device nodes every container gets when /dev is a fresh tmpfs. */
const DEFAULT_DEVICES: Device[] = [
  { type: "c", path: "/dev/null", major: 1, minor: 3, fileMode: 0o666 },
  { type: "c", path: "/dev/zero", major: 1, minor: 5, fileMode: 0o666 },
  { type: "c", path: "/dev/full", major: 1, minor: 7, fileMode: 0o666 },
  { type: "c", path: "/dev/random", major: 1, minor: 8, fileMode: 0o666 },
  { type: "c", path: "/dev/urandom", major: 1, minor: 9, fileMode: 0o666 },
  { type: "c", path: "/dev/tty", major: 5, minor: 0, fileMode: 0o666 },
];

const DEV_LINKS: [string, string][] = [
  ["/proc/self/fd", "/dev/fd"],
  ["/proc/self/fd/0", "/dev/stdin"],
  ["/proc/self/fd/1", "/dev/stdout"],
  ["/proc/self/fd/2", "/dev/stderr"],
];

/** Whether a spec's root is the host's own "/" (the sandbox view). */
export function isHostView(spec: Spec): boolean {
  return spec.root.path === "/";
}

/** Adds the rootfs ops to a plan. */
export function planRootfs(plan: PlanBuilder, spec: Spec, ctx: RootfsContext): void {
  const rootfs = spec.root.path;
  const mounts = spec.mounts ?? [];
  const wanted = spec.linux?.rootfsPropagation ?? "rprivate";
  // pivot_root refuses a shared new root or parent, and an unbindable tree cannot be bound:
  // those are set after the root change, and until then the tree is a slave.
  const after = (PROPAGATION[wanted] & (MS.SHARED | MS.UNBINDABLE)) !== 0;
  const before = after ? "rslave" : wanted;
  mountOp(plan, `make / ${before}`, 0, PROPAGATION[before] | MS.REC, { target: "/" });
  const hostView = isHostView(spec);
  if (hostView) {
    planHostView(plan);
  } else {
    mountOp(plan, `bind the rootfs ${rootfs} onto itself`, 0, MS.BIND | MS.REC, {
      source: rootfs,
      target: rootfs,
    });
    plan.op(Op.rootfs, `open the rootfs ${rootfs}`, (w) => w.str(rootfs));
  }
  if (hostView && spec.root.readonly) {
    plan.op(Op.rootReadonly, "make the host view read-only", (w) => w.u32(1));
  }
  // A tmpfs asked read-only (and /dev) is mounted writable, set up (device nodes, links,
  // mount points of later mounts), and made read-only after the root change, as runc does.
  const laterReadonly: { dest: string; flags: number }[] = [];
  const sources = { left: ctx.sourcesByParent ? MAX_SOURCES_BY_PARENT : 0 };
  for (const m of mounts) {
    const ro = planMount(plan, m, ctx, sources);
    if (ro !== undefined) laterReadonly.push(ro);
  }
  if (mounts.some((m) => m.destination === "/dev" && m.type === "tmpfs")) {
    planDevices(plan, [...DEFAULT_DEVICES, ...spec.linux?.devices ?? []], ctx);
    for (const [target, link] of DEV_LINKS) {
      plan.op(Op.symlink, `link ${link} to ${target}`, (w) => w.str(target).str(link));
    }
    if (mounts.some((m) => m.destination === "/dev/pts")) {
      plan.op(Op.symlink, "link /dev/ptmx to pts/ptmx", (w) => w.str("pts/ptmx").str("/dev/ptmx"));
    }
  } else if (spec.linux?.devices?.length) {
    planDevices(plan, spec.linux.devices, ctx);
  }
  ctx.beforeRootChange?.();
  if (ctx.noPivotRoot) {
    for (const path of hostPseudoFilesystems(rootfs)) {
      plan.op(Op.hideMount, `detach the host's ${path} (no pivot_root)`, (w) => w.str(path));
    }
    plan.op(Op.moveRoot, `move the rootfs ${rootfs} over / (no pivot_root)`);
  } else plan.op(Op.pivotRoot, `pivot_root to ${rootfs}`);
  for (const { dest, flags } of laterReadonly) {
    // Resolved in the root as when it was mounted: an image's own symlinks on the way are
    // followed inside it (runc's tmpfs under /conf -> /real/conf); /dev takes none.
    const resolve = IN_ROOT | (dest === "/dev" ? NO_SYMLINKS : 0);
    mountOp(plan, `remount ${dest} read-only`, resolve, flags | MS.REMOUNT, { target: dest });
  }
  if (after) {
    mountOp(plan, `make / ${wanted}`, 0, PROPAGATION[wanted] | MS.REC, { target: "/" });
  }
  if (spec.root.readonly && !hostView) {
    plan.op(Op.rootReadonly, "remount / read-only", (w) => w.u32(0));
  }
}

/**
 * Without pivot_root the host's mounts stay in the container's mount namespace under its
 * chroot, and a whole procfs or sysfs among them lets a process there mount a fresh one
 * (the kernel allows it when a full mount is visible). As runc does, every full procfs and
 * sysfs mount outside the rootfs is detached before the move (or covered, where it cannot
 * be). Read from our mount namespace, which the child's is a copy of.
 */
export function hostPseudoFilesystems(rootfs: string): string[] {
  const inside = (p: string) =>
    p === rootfs || p.startsWith(rootfs.endsWith("/") ? rootfs : `${rootfs}/`);
  const found: string[] = [];
  for (const line of Deno.readTextFileSync("/proc/self/mountinfo").split("\n")) {
    const [left, right] = line.split(" - ");
    if (right === undefined) continue;
    const fields = left.split(" ");
    const root = unescapeMountinfo(fields[3] ?? "");
    const mountpoint = unescapeMountinfo(fields[4] ?? "");
    const fstype = right.split(" ")[0];
    if (root !== "/" || (fstype !== "proc" && fstype !== "sysfs") || inside(mountpoint)) continue;
    found.push(mountpoint);
  }
  return found;
}

/** mountinfo writes space, tab, newline and backslash as octal escapes (`\040`). */
function unescapeMountinfo(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal) => String.fromCharCode(parseInt(octal, 8)));
}

/** Masked and read-only paths: last, after sysctls are written through /proc/sys. */
export function planMaskedPaths(plan: PlanBuilder, spec: Spec): void {
  for (const path of spec.linux?.maskedPaths ?? []) {
    plan.op(Op.maskPath, `mask ${path}`, (w) => w.str(path));
  }
  for (const path of spec.linux?.readonlyPaths ?? []) {
    plan.op(Op.readonlyPath, `make ${path} read-only`, (w) => w.str(path));
  }
}

/**
 * The host's "/" cannot be pivoted onto itself, so it is bound (with every submount)
 * into a staging tmpfs that this mount namespace puts over /tmp, and that bind
 * becomes the root. The staging tmpfs goes away with the old root.
 */
function planHostView(plan: PlanBuilder): void {
  mountOp(plan, "mount a staging tmpfs on /tmp", 0, MS.NOSUID | MS.NODEV, {
    source: "tmpfs",
    target: "/tmp",
    fstype: "tmpfs",
    data: "mode=700",
  });
  plan.op(Op.rootfs, "open the staging tmpfs", (w) => w.str("/tmp"));
  mountOp(plan, "bind the host's / into the staging tmpfs", IN_ROOT | MKDIR, MS.BIND | MS.REC, {
    source: "/",
    target: "/host",
  });
  plan.op(Op.rootfs, "open the host view", (w) => w.str("/tmp/host"));
}

interface MountArgs {
  source?: string;
  target: string;
  fstype?: string;
  data?: string;
  magic?: number;
}

function mountOp(
  plan: PlanBuilder,
  description: string,
  opflags: number,
  msflags: number,
  args: MountArgs,
): void {
  plan.op(Op.mount, description, (w) =>
    w.u32(opflags).u32(msflags).u64(args.magic ?? 0)
      .str(args.source ?? "").str(args.target).str(args.fstype ?? "").str(args.data ?? ""));
}

/**
 * A tmpfs that starts with a copy of what its target held (`tmpcopyup`, validated to be
 * on tmpfs only): the native core opens the target, mounts the tmpfs on it and copies.
 */
/** A tmpfs holding a copy of what it covers; returns its read-only remount, if asked. */
function planTmpfsCopyup(
  plan: PlanBuilder,
  m: Mount,
): { dest: string; flags: number } | undefined {
  const { flags, propagation, data } = parseMountOptions(
    (m.options ?? []).filter((o) => o !== TMPCOPYUP),
  );
  plan.op(
    Op.tmpfsCopyup,
    `mount tmpfs on ${m.destination} with a copy of its content`,
    (w) => w.u32(flags & ~MS.RDONLY).str(m.destination).str(data), // read-only later
  );
  for (const p of propagation) {
    mountOp(plan, `set the propagation of ${m.destination}`, IN_ROOT, p, { target: m.destination });
  }
  return (flags & MS.RDONLY) !== 0 ? { dest: m.destination, flags } : undefined;
}

function isFile(path: string): boolean {
  try {
    return !Deno.statSync(path).isDirectory;
  } catch {
    return false;
  }
}

/**
 * Adds the ops of one mount. Returns the target and flags of a read-only tmpfs (or /dev)
 * that was mounted writable to be set up, for a remount after the root change.
 */
function planMount(
  plan: PlanBuilder,
  m: Mount,
  ctx: RootfsContext,
  sources: { left: number },
): { dest: string; flags: number } | undefined {
  if (m.options?.includes(TMPCOPYUP)) return planTmpfsCopyup(plan, m);
  const options = m.options ?? [];
  const { flags, propagation, data, attrs, recursive } = parseMountOptions(options);
  const dest = m.destination;
  const bind = (flags & MS.BIND) !== 0 || m.type === "bind";
  let readonlyLater: { dest: string; flags: number } | undefined;
  if (m.type === "cgroup" || m.type === "cgroup2") {
    planCgroupMount(plan, m, flags, ctx);
  } else if (bind) {
    const source = m.source ?? "";
    const create = isFile(source) ? MKFILE : MKDIR;
    const bindFlags = MS.BIND | (flags & MS.REC);
    let fromParent = 0;
    if (sources.left > 0 && source.startsWith("/")) {
      sources.left--;
      fromParent = SOURCE_FD;
      plan.op(Op.mountSource, `open the bind source ${source}`, (w) => w.str(source));
    }
    mountOp(plan, `bind ${source} on ${dest}`, IN_ROOT | create | fromParent, bindFlags, {
      source,
      target: dest,
    });
    // A bind takes no mount(2) flags: its own attributes (ro, nosuid, ...) are changed
    // after, bit by bit, so what is not named stays as the source has it.
    if (attrs.set !== 0 || attrs.clear !== 0) {
      setattrOp(plan, `set the attributes of ${dest}`, dest, attrs, false);
    }
  } else {
    const type = m.type ?? "none";
    const special = type === "proc" || type === "sysfs" || dest === "/dev";
    if ((type === "tmpfs" || dest === "/dev") && (flags & MS.RDONLY) !== 0) {
      readonlyLater = { dest, flags };
    }
    const magic = type === "proc"
      ? PROC_MAGIC
      : type === "sysfs"
      ? SYSFS_MAGIC
      : type === "tmpfs" && dest === "/dev"
      ? TMPFS_MAGIC
      : 0;
    mountOp(
      plan,
      `mount ${type} on ${dest}`,
      IN_ROOT | MKDIR | (special ? NO_SYMLINKS : 0),
      readonlyLater ? flags & ~MS.RDONLY : flags,
      {
        source: m.source ?? type,
        target: dest,
        fstype: type,
        data,
        magic,
      },
    );
  }
  if (recursive.set !== 0 || recursive.clear !== 0) {
    setattrOp(plan, `set the recursive attributes of ${dest}`, dest, recursive, true);
  }
  for (const p of propagation) {
    mountOp(plan, `set propagation of ${dest}`, IN_ROOT, p, { target: dest });
  }
  return readonlyLater;
}

/** mount_setattr(2) on a target inside the root; with `recursive`, on every mount under it. */
function setattrOp(
  plan: PlanBuilder,
  description: string,
  target: string,
  change: AttrChange,
  recursive: boolean,
): void {
  plan.op(
    Op.mountSetattr,
    description,
    (w) => w.u32(IN_ROOT).u32(recursive ? 1 : 0).u64(change.set).u64(change.clear).str(target),
  );
}

/**
 * cgroup mounts: with a cgroup namespace each hierarchy is mounted fresh (the
 * container sees its own cgroup as the root); without one, the container's host
 * directories are bound in.
 */
function planCgroupMount(plan: PlanBuilder, m: Mount, flags: number, ctx: RootfsContext): void {
  const dest = m.destination;
  const ro = flags & MS.RDONLY;
  const base = flags & (MS.NOSUID | MS.NODEV | MS.NOEXEC | MS.RELATIME);
  if (ctx.cgroupMode === "v2") {
    if (ctx.cgroupns) {
      mountOp(plan, `mount cgroup2 on ${dest}`, IN_ROOT | MKDIR, base | ro, {
        source: "cgroup2",
        target: dest,
        fstype: "cgroup2",
      });
    } else {
      bindCgroupDir(plan, ctx.cgroupPaths.unified, dest, base | ro);
    }
    return;
  }
  mountOp(plan, `mount tmpfs on ${dest}`, IN_ROOT | MKDIR, base, {
    source: "tmpfs",
    target: dest,
    fstype: "tmpfs",
    data: "mode=755",
  });
  for (const [controllers, hostDir] of Object.entries(ctx.cgroupPaths)) {
    const name = controllers.replace(/^name=/, "");
    const target = `${dest}/${name}`;
    if (controllers === "unified") {
      // A hybrid host's cgroup2 side, where the host has it (/sys/fs/cgroup/unified).
      if (ctx.cgroupns) {
        mountOp(plan, `mount cgroup2 on ${target}`, IN_ROOT | MKDIR, base | ro, {
          source: "cgroup2",
          target,
          fstype: "cgroup2",
        });
      } else {
        bindCgroupDir(plan, hostDir, target, base | ro);
      }
      continue;
    }
    if (ctx.cgroupns) {
      const fsData = controllers.startsWith("name=") ? `none,${controllers}` : controllers;
      mountOp(plan, `mount cgroup ${controllers} on ${target}`, IN_ROOT | MKDIR, base | ro, {
        source: "cgroup",
        target,
        fstype: "cgroup",
        data: fsData,
      });
    } else {
      bindCgroupDir(plan, hostDir, target, base | ro);
    }
    if (controllers.includes(",")) {
      for (const single of controllers.split(",")) {
        plan.op(Op.symlink, `link ${dest}/${single}`, (w) => w.str(name).str(`${dest}/${single}`));
      }
    }
  }
  if (ro) {
    mountOp(plan, `remount ${dest} read-only`, IN_ROOT, MS.REMOUNT | ro | base, {
      target: dest,
      fstype: "tmpfs",
    });
  }
}

function bindCgroupDir(plan: PlanBuilder, hostDir: string, target: string, flags: number): void {
  mountOp(plan, `bind ${hostDir} on ${target}`, IN_ROOT | MKDIR, MS.BIND, {
    source: hostDir,
    target,
  });
  if (flags !== 0) {
    mountOp(plan, `remount ${target}`, IN_ROOT | KEEP_LOCKED, MS.REMOUNT | MS.BIND | flags, {
      target,
    });
  }
}

function planDevices(plan: PlanBuilder, devices: readonly Device[], ctx: RootfsContext): void {
  for (const d of devices) {
    if (ctx.userns) {
      // mknod is not allowed in a user namespace: bind the host's node instead, on a file
      // made in place of any symlink the image has there (never through it).
      mountOp(plan, `bind device ${d.path}`, IN_ROOT | MKFILE | REPLACE_LINK, MS.BIND, {
        source: d.path,
        target: d.path,
      });
      continue;
    }
    const typeBits = d.type === "b" ? 0o060000 : d.type === "p" ? 0o010000 : 0o020000;
    const mode = typeBits | (d.fileMode ?? 0o666) & 0o7777;
    plan.op(
      Op.mknod,
      `create device ${d.path}`,
      (w) =>
        w.u32(mode).u32(d.major ?? 0).u32(d.minor ?? 0).u32(d.uid ?? 0).u32(d.gid ?? 0).str(d.path),
    );
  }
}
