/**
 * Turns the spec's root, mounts, devices and masked paths into ordered plan ops:
 * propagation, the rootfs bind, each mount (targets resolved inside the rootfs by the
 * native core), /dev nodes and links, the root change, then read-only root, masked
 * and read-only paths. Pure: what it needs of the host comes in {@linkcode HostFacts}.
 *
 * @module
 */

import type { Device, Mount, Spec } from "../config/types.ts";
import { TMPCOPYUP } from "../config/mount_options.ts";
import { ContainerError } from "../errors.ts";
import { mapContent } from "../config/id_mappings.ts";
import type { HostFacts } from "../plan/host_facts.ts";
import type { MountOpFlag, PlanOp } from "../plan/ops.ts";
import { type AttrChange, MS, parseMountOptions, PROPAGATION } from "./mount_flags.ts";

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
  /** The ops that come after every mount, just before the root change (hooks). */
  beforeRootChange?: readonly PlanOp[];
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

/** Whether a mount (not tmpcopyup, not cgroup) is planned as a bind, given its flags. */
function isBind(m: Mount, flags: number): boolean {
  return (flags & MS.BIND) !== 0 || m.type === "bind";
}

/** The bind sources of the spec's mounts: the planner asks which of them are files. */
export function bindSources(spec: Spec): string[] {
  return (spec.mounts ?? []).filter((m) =>
    !m.options?.includes(TMPCOPYUP) && m.type !== "cgroup" && m.type !== "cgroup2" &&
    isBind(m, parseMountOptions(m.options ?? []).flags)
  ).map((m) => m.source ?? "");
}

/** The rootfs ops of a plan. */
export function planRootfs(
  spec: Spec,
  ctx: RootfsContext,
  host: Pick<HostFacts, "fileSources" | "pseudoFilesystems">,
): PlanOp[] {
  const plan: PlanOp[] = [];
  const rootfs = spec.root.path;
  const mounts = spec.mounts ?? [];
  const wanted = spec.linux?.rootfsPropagation ?? "rprivate";
  // pivot_root refuses a shared new root or parent, and an unbindable tree cannot be bound:
  // those are set after the root change, and until then the tree is a slave.
  const after = (PROPAGATION[wanted] & (MS.SHARED | MS.UNBINDABLE)) !== 0;
  const before = after ? "rslave" : wanted;
  mountOp(plan, `make / ${before}`, [], PROPAGATION[before] | MS.REC, { target: "/" });
  const hostView = isHostView(spec);
  if (hostView) {
    planHostView(plan);
  } else {
    mountOp(plan, `bind the rootfs ${rootfs} onto itself`, [], MS.BIND | MS.REC, {
      source: rootfs,
      target: rootfs,
    });
    plan.push({ op: "rootfs", what: `open the rootfs ${rootfs}`, path: rootfs });
  }
  if (hostView && spec.root.readonly) {
    plan.push({ op: "rootReadonly", what: "make the host view read-only", recursive: true });
  }
  // A tmpfs asked read-only (and /dev) is mounted writable, set up (device nodes, links,
  // mount points of later mounts), and made read-only after the root change, as runc does.
  const laterReadonly: { dest: string; flags: number }[] = [];
  // Id-mapped binds always come from the parent; plain ones when it opens them.
  const sources = { left: MAX_SOURCES_BY_PARENT, plain: ctx.sourcesByParent ?? false };
  for (const m of mounts) {
    const ro = planMount(plan, m, ctx, sources, host.fileSources);
    if (ro !== undefined) laterReadonly.push(ro);
  }
  if (mounts.some((m) => m.destination === "/dev" && m.type === "tmpfs")) {
    planDevices(plan, [...DEFAULT_DEVICES, ...spec.linux?.devices ?? []], ctx);
    for (const [target, link] of DEV_LINKS) {
      plan.push({ op: "symlink", what: `link ${link} to ${target}`, target, link });
    }
    if (mounts.some((m) => m.destination === "/dev/pts")) {
      const what = "link /dev/ptmx to pts/ptmx";
      plan.push({ op: "symlink", what, target: "pts/ptmx", link: "/dev/ptmx" });
    }
  } else if (spec.linux?.devices?.length) {
    planDevices(plan, spec.linux.devices, ctx);
  }
  plan.push(...ctx.beforeRootChange ?? []);
  if (ctx.noPivotRoot) {
    for (const path of outside(rootfs, host.pseudoFilesystems)) {
      plan.push({ op: "hideMount", what: `detach the host's ${path} (no pivot_root)`, path });
    }
    plan.push({ op: "moveRoot", what: `move the rootfs ${rootfs} over / (no pivot_root)` });
  } else plan.push({ op: "pivotRoot", what: `pivot_root to ${rootfs}` });
  for (const { dest, flags } of laterReadonly) {
    // Resolved in the root as when it was mounted: an image's own symlinks on the way are
    // followed inside it (runc's tmpfs under /conf -> /real/conf); /dev takes none.
    const resolve: MountOpFlag[] = dest === "/dev" ? ["inRoot", "noSymlinks"] : ["inRoot"];
    mountOp(plan, `remount ${dest} read-only`, resolve, flags | MS.REMOUNT, { target: dest });
  }
  if (after) {
    mountOp(plan, `make / ${wanted}`, [], PROPAGATION[wanted] | MS.REC, { target: "/" });
  }
  if (spec.root.readonly && !hostView) {
    plan.push({ op: "rootReadonly", what: "remount / read-only", recursive: false });
  }
  return plan;
}

/**
 * Of the host's whole procfs and sysfs mounts, those outside the rootfs: without
 * pivot_root they stay in the container's mount namespace under its chroot, and are
 * detached before the move (or covered, where they cannot be).
 */
function outside(rootfs: string, mountpoints: readonly string[]): string[] {
  const prefix = rootfs.endsWith("/") ? rootfs : `${rootfs}/`;
  return mountpoints.filter((p) => p !== rootfs && !p.startsWith(prefix));
}

/** Masked and read-only paths: last, after sysctls are written through /proc/sys. */
export function planMaskedPaths(spec: Spec): PlanOp[] {
  return [
    ...(spec.linux?.maskedPaths ?? []).map((path): PlanOp => ({
      op: "maskPath",
      what: `mask ${path}`,
      path,
    })),
    ...(spec.linux?.readonlyPaths ?? []).map((path): PlanOp => ({
      op: "readonlyPath",
      what: `make ${path} read-only`,
      path,
    })),
  ];
}

/**
 * The host's "/" cannot be pivoted onto itself, so it is bound (with every submount)
 * into a staging tmpfs that this mount namespace puts over /tmp, and that bind
 * becomes the root. The staging tmpfs goes away with the old root.
 */
function planHostView(plan: PlanOp[]): void {
  mountOp(plan, "mount a staging tmpfs on /tmp", [], MS.NOSUID | MS.NODEV, {
    source: "tmpfs",
    target: "/tmp",
    fstype: "tmpfs",
    data: "mode=700",
  });
  plan.push({ op: "rootfs", what: "open the staging tmpfs", path: "/tmp" });
  mountOp(plan, "bind the host's / into the staging tmpfs", ["inRoot", "mkdir"], MS.BIND | MS.REC, {
    source: "/",
    target: "/host",
  });
  plan.push({ op: "rootfs", what: "open the host view", path: "/tmp/host" });
}

interface MountArgs {
  source?: string;
  target: string;
  fstype?: string;
  data?: string;
  magic?: number;
}

function mountOp(
  plan: PlanOp[],
  what: string,
  opFlags: MountOpFlag[],
  msFlags: number,
  args: MountArgs,
): void {
  plan.push({
    op: "mount",
    what,
    opFlags,
    msFlags,
    magic: args.magic ?? 0,
    source: args.source ?? "",
    target: args.target,
    fstype: args.fstype ?? "",
    data: args.data ?? "",
  });
}

/**
 * A tmpfs that starts with a copy of what its target held (`tmpcopyup`, validated to be
 * on tmpfs only): the native core opens the target, mounts the tmpfs on it and copies.
 * Returns its read-only remount, if asked.
 */
function planTmpfsCopyup(
  plan: PlanOp[],
  m: Mount,
): { dest: string; flags: number } | undefined {
  const { flags, propagation, data } = parseMountOptions(
    (m.options ?? []).filter((o) => o !== TMPCOPYUP),
  );
  plan.push({
    op: "tmpfsCopyup",
    what: `mount tmpfs on ${m.destination} with a copy of its content`,
    msFlags: flags & ~MS.RDONLY, // read-only later
    target: m.destination,
    data,
  });
  for (const p of propagation) {
    mountOp(plan, `set the propagation of ${m.destination}`, ["inRoot"], p, {
      target: m.destination,
    });
  }
  return (flags & MS.RDONLY) !== 0 ? { dest: m.destination, flags } : undefined;
}

/**
 * Adds the ops of one mount. Returns the target and flags of a read-only tmpfs (or /dev)
 * that was mounted writable to be set up, for a remount after the root change.
 */
function planMount(
  plan: PlanOp[],
  m: Mount,
  ctx: RootfsContext,
  sources: { left: number; plain: boolean },
  fileSources: readonly string[],
): { dest: string; flags: number } | undefined {
  if (m.options?.includes(TMPCOPYUP)) return planTmpfsCopyup(plan, m);
  const options = m.options ?? [];
  const { flags, propagation, data, attrs, recursive } = parseMountOptions(options);
  const dest = m.destination;
  const bind = isBind(m, flags);
  let readonlyLater: { dest: string; flags: number } | undefined;
  if (m.type === "cgroup" || m.type === "cgroup2") {
    planCgroupMount(plan, m, flags, ctx);
  } else if (bind) {
    const source = m.source ?? "";
    const opFlags: MountOpFlag[] = ["inRoot", fileSources.includes(source) ? "mkfile" : "mkdir"];
    const bindFlags = MS.BIND | (flags & MS.REC);
    if (m.uidMappings !== undefined) {
      planIdmapSource(plan, m, (flags & MS.REC) !== 0, sources);
      opFlags.push("sourceFd", "moveTree");
    } else if (sources.plain && sources.left > 0 && source.startsWith("/")) {
      sources.left--;
      opFlags.push("sourceFd");
      plan.push({ op: "mountSource", what: `open the bind source ${source}`, path: source });
    }
    mountOp(plan, `bind ${source} on ${dest}`, opFlags, bindFlags, {
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
      special ? ["inRoot", "mkdir", "noSymlinks"] : ["inRoot", "mkdir"],
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
    mountOp(plan, `set propagation of ${dest}`, ["inRoot"], p, { target: dest });
  }
  return readonlyLater;
}

/**
 * The parent clones an id-mapped bind's source (with its submounts for `rbind`) and maps
 * it with the mount's ids (every cloned mount for `ridmap`, the top one for `idmap`); the
 * child moves that tree onto the target. The mappings are the host's view (validation
 * filled in the container's for a bare `idmap`).
 */
function planIdmapSource(
  plan: PlanOp[],
  m: Mount,
  recursiveTree: boolean,
  sources: { left: number },
): void {
  const source = m.source ?? "";
  if (sources.left === 0) {
    throw new ContainerError(
      "ConfigInvalid",
      `mounts: at most ${MAX_SOURCES_BY_PARENT} bind sources opened by the runtime, ` +
        `id-mapped ones included (${m.destination} is one too many)`,
    );
  }
  if (!source.startsWith("/")) {
    throw new ContainerError(
      "ConfigInvalid",
      `mounts (${m.destination}): an id-mapped bind needs an absolute source, got "${source}"`,
    );
  }
  sources.left--;
  plan.push({
    op: "idmapSource",
    what: `make an id-mapped copy of ${source} for ${m.destination}`,
    source,
    recursiveTree,
    recursiveMap: (m.options ?? []).includes("ridmap"),
    uidMap: mapContent(m.uidMappings ?? []),
    gidMap: mapContent(m.gidMappings ?? []),
  });
}

/** mount_setattr(2) on a target inside the root; with `recursive`, on every mount under it. */
function setattrOp(
  plan: PlanOp[],
  what: string,
  target: string,
  change: AttrChange,
  recursive: boolean,
): void {
  const { set, clear } = change;
  plan.push({ op: "mountSetattr", what, opFlags: ["inRoot"], recursive, set, clear, target });
}

/**
 * cgroup mounts: with a cgroup namespace each hierarchy is mounted fresh (the
 * container sees its own cgroup as the root); without one, the container's host
 * directories are bound in.
 */
function planCgroupMount(plan: PlanOp[], m: Mount, flags: number, ctx: RootfsContext): void {
  const dest = m.destination;
  const ro = flags & MS.RDONLY;
  const base = flags & (MS.NOSUID | MS.NODEV | MS.NOEXEC | MS.RELATIME);
  if (ctx.cgroupMode === "v2") {
    if (ctx.cgroupns) {
      mountOp(plan, `mount cgroup2 on ${dest}`, ["inRoot", "mkdir"], base | ro, {
        source: "cgroup2",
        target: dest,
        fstype: "cgroup2",
      });
    } else {
      bindCgroupDir(plan, ctx.cgroupPaths.unified, dest, base | ro);
    }
    return;
  }
  mountOp(plan, `mount tmpfs on ${dest}`, ["inRoot", "mkdir"], base, {
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
        mountOp(plan, `mount cgroup2 on ${target}`, ["inRoot", "mkdir"], base | ro, {
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
      mountOp(plan, `mount cgroup ${controllers} on ${target}`, ["inRoot", "mkdir"], base | ro, {
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
        const link = `${dest}/${single}`;
        plan.push({ op: "symlink", what: `link ${link}`, target: name, link });
      }
    }
  }
  if (ro) {
    mountOp(plan, `remount ${dest} read-only`, ["inRoot"], MS.REMOUNT | ro | base, {
      target: dest,
      fstype: "tmpfs",
    });
  }
}

function bindCgroupDir(plan: PlanOp[], hostDir: string, target: string, flags: number): void {
  mountOp(plan, `bind ${hostDir} on ${target}`, ["inRoot", "mkdir"], MS.BIND, {
    source: hostDir,
    target,
  });
  if (flags !== 0) {
    const opFlags: MountOpFlag[] = ["inRoot", "keepLocked"];
    mountOp(plan, `remount ${target}`, opFlags, MS.REMOUNT | MS.BIND | flags, {
      target,
    });
  }
}

function planDevices(plan: PlanOp[], devices: readonly Device[], ctx: RootfsContext): void {
  for (const d of devices) {
    if (ctx.userns) {
      // mknod is not allowed in a user namespace: bind the host's node instead, on a file
      // made in place of any symlink the image has there (never through it).
      const opFlags: MountOpFlag[] = ["inRoot", "mkfile", "replaceLink"];
      mountOp(plan, `bind device ${d.path}`, opFlags, MS.BIND, {
        source: d.path,
        target: d.path,
      });
      continue;
    }
    const typeBits = d.type === "b" ? 0o060000 : d.type === "p" ? 0o010000 : 0o020000;
    const mode = typeBits | (d.fileMode ?? 0o666) & 0o7777;
    plan.push({
      op: "mknod",
      what: `create device ${d.path}`,
      mode,
      major: d.major ?? 0,
      minor: d.minor ?? 0,
      uid: d.uid ?? 0,
      gid: d.gid ?? 0,
      path: d.path,
    });
  }
}
