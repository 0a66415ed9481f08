/**
 * Ready-made container configs: {@linkcode defaultConfig} for a container with its own root
 * filesystem (what `runc spec` writes, adapted to cell) and {@linkcode sandboxConfig} for
 * running a command against the host's filesystem seen read-only.
 *
 * Every call returns fresh objects, so callers may modify the result.
 *
 * @module
 */

import { toRootless } from "./rootless_spec.ts";
import type { Capabilities, Mount, Namespace, Process, Rlimit, Spec } from "./types.ts";

/** The OCI version the generated configs declare. */
const OCI_VERSION = "1.0.2";

const DEFAULT_PATH = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const DEFAULT_ENV = [DEFAULT_PATH, "TERM=xterm"];
const DEFAULT_CAPABILITIES = ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"];

/** Kernel files and directories that leak host information or allow host changes. */
const MASKED_PATHS = [
  "/proc/acpi",
  "/proc/asound",
  "/proc/kcore",
  "/proc/keys",
  "/proc/latency_stats",
  "/proc/timer_list",
  "/proc/timer_stats",
  "/proc/sched_debug",
  "/sys/firmware",
  "/proc/scsi",
  "/sys/devices/virtual/tpm",
];

/** Kernel directories the container may read but not write. */
const READONLY_PATHS = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"];

/** Options for {@linkcode defaultConfig}. */
export interface DefaultConfigOptions {
  /** Path of the root filesystem, absolute or relative to the bundle. */
  rootfs: string;
  /** The command to run; defaults to `["sh"]`. */
  args?: string[];
  /** Host name inside the container; defaults to `"cell"`. */
  hostname?: string;
  /**
   * For a non-root user (as `runc spec --rootless`): a user namespace mapping the
   * calling user to root, no network namespace, `/sys` bound from the host, no limits.
   */
  rootless?: boolean;
}

/** Options for {@linkcode sandboxConfig}. */
export interface SandboxConfigOptions {
  /** The command to run. */
  args: string[];
  /** Environment as `KEY=value`; defaults to a standard `PATH` and `TERM=xterm`. */
  env?: string[];
  /** Working directory inside the sandbox; defaults to `"/"`. */
  cwd?: string;
  /** Host name inside the sandbox; defaults to `"cell-sandbox"`. */
  hostname?: string;
  /** Absolute host paths to hide inside the sandbox (added to the masked paths). */
  hide?: string[];
}

/**
 * The config `runc spec` writes, adapted to cell: root filesystem `rootfs` read-only, `sh`
 * as root with a minimal capability set, no new privileges, `RLIMIT_NOFILE` 1024, the usual
 * `/proc`, `/dev`, `/dev/pts`, `/dev/shm`, `/dev/mqueue`, `/sys` and `/sys/fs/cgroup`
 * mounts, new pid, network, ipc, uts, mount and cgroup namespaces, all devices denied in the
 * device cgroup, and runc's masked and read-only paths.
 *
 * Unlike runc, `process.terminal` is `false`, so the process can start without a console
 * socket; no ambient capabilities are listed; the cgroup namespace is always requested
 * (runc adds it only on cgroup v2 hosts); `/sys/devices/virtual/tpm` is masked too. `cell
 * spec` writes runc's form (terminal, ambient, cgroup namespace as runc, runc's key order)
 * from this one.
 *
 * @example
 * ```ts ignore
 * const spec = defaultConfig({ rootfs: "rootfs", args: ["/bin/echo", "hi"] });
 * ```
 */
export function defaultConfig(options: DefaultConfigOptions): Spec {
  const spec: Spec = {
    ociVersion: OCI_VERSION,
    root: { path: options.rootfs, readonly: true },
    mounts: [
      ...deviceMounts(),
      sysMount(),
      mount("/sys/fs/cgroup", "cgroup", "cgroup", [
        "nosuid",
        "noexec",
        "nodev",
        "relatime",
        "ro",
      ]),
    ],
    process: baseProcess(options.args ?? ["sh"], [...DEFAULT_ENV], "/"),
    hostname: options.hostname ?? "cell",
    linux: {
      namespaces: namespaces(["pid", "network", "ipc", "uts", "mount", "cgroup"]),
      maskedPaths: [...MASKED_PATHS],
      readonlyPaths: [...READONLY_PATHS],
      resources: { devices: [{ allow: false, access: "rwm" }] },
    },
  };
  if (!options.rootless) return spec;
  return toRootless(spec, { uid: Deno.uid() ?? 0, gid: Deno.gid() ?? 0 });
}

/**
 * The built-in sandbox: the host's whole filesystem (`/`) seen read-only, with its own
 * `/proc`, `/dev`, `/dev/pts`, `/dev/shm`, `/dev/mqueue`, a writable `/tmp` and a read-only
 * `/sys`; new pid, ipc, uts, mount, cgroup and network namespaces (the network namespace is
 * empty; the runtime brings loopback up); the capabilities and no-new-privileges of
 * {@linkcode defaultConfig}; runc's masked paths plus every path in `hide`, and runc's
 * read-only paths. It carries the annotation `cell.sandbox: "true"`.
 *
 * Used by the demo and by a CLI run without a root filesystem. Paths in `hide` must be
 * absolute (`validateConfig` rejects others); pass the host `deno` binary and cell's native
 * library so they are not reachable from inside.
 *
 * @example
 * ```ts ignore
 * const spec = sandboxConfig({ args: ["ls", "/"], hide: [Deno.execPath()] });
 * ```
 */
export function sandboxConfig(options: SandboxConfigOptions): Spec {
  return {
    ociVersion: OCI_VERSION,
    root: { path: "/", readonly: true },
    mounts: [
      ...deviceMounts(),
      mount("/tmp", "tmpfs", "tmpfs", ["nosuid", "nodev", "mode=1777"]),
      sysMount(),
    ],
    process: baseProcess([...options.args], [...(options.env ?? DEFAULT_ENV)], options.cwd ?? "/"),
    hostname: options.hostname ?? "cell-sandbox",
    annotations: { "cell.sandbox": "true" },
    linux: {
      namespaces: namespaces(["pid", "ipc", "uts", "mount", "cgroup", "network"]),
      maskedPaths: [...MASKED_PATHS, ...(options.hide ?? [])],
      readonlyPaths: [...READONLY_PATHS],
    },
  };
}

function baseProcess(args: string[], env: string[], cwd: string): Process {
  const rlimits: Rlimit[] = [{ type: "RLIMIT_NOFILE", hard: 1024, soft: 1024 }];
  return {
    terminal: false,
    user: { uid: 0, gid: 0 },
    args,
    env,
    cwd,
    capabilities: capabilities(),
    rlimits,
    noNewPrivileges: true,
  };
}

function capabilities(): Capabilities {
  return {
    bounding: [...DEFAULT_CAPABILITIES],
    effective: [...DEFAULT_CAPABILITIES],
    permitted: [...DEFAULT_CAPABILITIES],
  };
}

/** `/proc`, `/dev`, `/dev/pts`, `/dev/shm` and `/dev/mqueue`, as runc sets them up. */
function deviceMounts(): Mount[] {
  return [
    mount("/proc", "proc", "proc", []),
    mount("/dev", "tmpfs", "tmpfs", ["nosuid", "strictatime", "mode=755", "size=65536k"]),
    mount("/dev/pts", "devpts", "devpts", [
      "nosuid",
      "noexec",
      "newinstance",
      "ptmxmode=0666",
      "mode=0620",
      "gid=5",
    ]),
    mount("/dev/shm", "tmpfs", "shm", ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]),
    mount("/dev/mqueue", "mqueue", "mqueue", ["nosuid", "noexec", "nodev"]),
  ];
}

/** A read-only `/sys`. */
function sysMount(): Mount {
  return mount("/sys", "sysfs", "sysfs", ["nosuid", "noexec", "nodev", "ro"]);
}

function mount(destination: string, type: string, source: string, options: string[]): Mount {
  return { destination, type, source, options };
}

function namespaces(types: Namespace["type"][]): Namespace[] {
  return types.map((type) => ({ type }));
}
