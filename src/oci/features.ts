/**
 * The OCI features document: what this runtime supports, so engines can ask before
 * they use something (`runc features`).
 *
 * @module
 */

import { MEMORY_POLICY_FLAGS, MEMORY_POLICY_MODES } from "../config/types.ts";
import { CAPABILITIES } from "../config/capabilities.ts";
import { HOOK_KINDS } from "../config/types.ts";
import { IDMAP_OPTIONS } from "../config/mount_options.ts";
import { lsmEnabled } from "../config/validate_process.ts";
import { OCI_SPEC_VERSION } from "../container/container.ts";
import { mountOptionNames } from "../rootfs/mount_flags.ts";
import { SECCOMP_FLAG_SINCE } from "../seccomp/check_profile.ts";

/** The `linux` part of {@linkcode Features}. */
export interface LinuxFeatures {
  /** The namespace types cell recognizes (a kernel without one refuses it at create). */
  namespaces: string[];
  /** The capability names known. */
  capabilities: string[];
  /**
   * Which cgroup drivers and versions cell implements. As features-linux.md asks, this says
   * what the runtime supports, not what this host has: `rdma` is true although a host
   * without the rdma controller refuses rdma limits (clearly, at create).
   */
  cgroup: { v1: boolean; v2: boolean; systemd: boolean; systemdUser: boolean; rdma: boolean };
  /** The seccomp actions, operators and architectures a profile may use. */
  seccomp: {
    enabled: boolean;
    actions: string[];
    operators: string[];
    archs: string[];
    /** The filter flags this runtime knows. */
    knownFlags: string[];
    /** The known flags this kernel supports too. */
    supportedFlags: string[];
  };
  /** Whether AppArmor is enabled on this host. */
  apparmor: { enabled: boolean };
  /** Whether SELinux is enabled on this host. */
  selinux: { enabled: boolean };
  /** The `linux.memoryPolicy` modes and flags taken. */
  memoryPolicy: { modes: string[]; flags: string[] };
  /** Mount features: id-mapped binds (a mount's `uidMappings`, `idmap`, `ridmap`). */
  mountExtensions: { idmap: { enabled: boolean } };
  /**
   * `linux.intelRdt`, implemented with `schemata` and `enableMonitoring`. As the spec says,
   * this is irrelevant to whether the host has Intel RDT: a config with intelRdt is refused
   * where resctrl is not mounted.
   */
  intelRdt: { enabled: boolean; schemata: boolean; monitoring: boolean };
  /** Whether `linux.netDevices` (host devices moved into the container) is done. */
  netDevices: { enabled: boolean };
}

/** The features document, in the OCI runtime spec's shape (features.md). */
export interface Features {
  /** The oldest spec version accepted. */
  ociVersionMin: string;
  /** The newest spec version accepted. */
  ociVersionMax: string;
  /** The hook kinds run. */
  hooks: string[];
  /** The mount options understood. */
  mountOptions: string[];
  /** Linux specifics. */
  linux: LinuxFeatures;
  /** Runtime-specific facts. */
  annotations: Record<string, string>;
  /**
   * Config annotations (or prefixes, ending in ".") that change what the runtime does, for
   * engines that filter what users may set. Empty: cell reads no annotation of the config
   * (runc's entries are for its systemd driver, CRIU's config file and its bundle
   * annotation; cell has no systemd driver and no restore, and takes the bundle only from
   * the command line).
   */
  potentiallyUnsafeConfigAnnotations: string[];
}

/** The features document of this runtime on this host (LSMs are probed). */
export function featuresDocument(): Features {
  return {
    ociVersionMin: "1.0.0",
    ociVersionMax: OCI_SPEC_VERSION,
    hooks: [...HOOK_KINDS],
    mountOptions: [...mountOptionNames(), ...IDMAP_OPTIONS],
    linux: {
      namespaces: ["cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts"],
      capabilities: [...CAPABILITIES],
      cgroup: {
        v1: true,
        v2: true,
        systemd: false,
        systemdUser: false,
        rdma: true,
      },
      seccomp: {
        enabled: true,
        actions: [
          "SCMP_ACT_ALLOW",
          "SCMP_ACT_ERRNO",
          "SCMP_ACT_KILL",
          "SCMP_ACT_KILL_PROCESS",
          "SCMP_ACT_KILL_THREAD",
          "SCMP_ACT_LOG",
          "SCMP_ACT_NOTIFY",
          "SCMP_ACT_TRACE",
          "SCMP_ACT_TRAP",
        ],
        operators: [
          "SCMP_CMP_EQ",
          "SCMP_CMP_GE",
          "SCMP_CMP_GT",
          "SCMP_CMP_LE",
          "SCMP_CMP_LT",
          "SCMP_CMP_MASKED_EQ",
          "SCMP_CMP_NE",
        ],
        archs: ["SCMP_ARCH_X86_64", "SCMP_ARCH_AARCH64"],
        knownFlags: Object.keys(SECCOMP_FLAG_SINCE),
        supportedFlags: Object.entries(SECCOMP_FLAG_SINCE)
          .filter(([, since]) => kernelAtLeast(since)).map(([flag]) => flag),
      },
      apparmor: { enabled: lsmEnabled("AppArmor") },
      selinux: { enabled: lsmEnabled("SELinux") },
      memoryPolicy: {
        modes: Object.keys(MEMORY_POLICY_MODES),
        flags: Object.keys(MEMORY_POLICY_FLAGS),
      },
      mountExtensions: { idmap: { enabled: true } },
      intelRdt: { enabled: true, schemata: true, monitoring: true },
      netDevices: { enabled: true },
    },
    annotations: { "org.opencontainers.runtime-spec.features.runtime": "cell" },
    potentiallyUnsafeConfigAnnotations: [],
  };
}

/** Whether this kernel's release is at least `major.minor`. */
function kernelAtLeast([major, minor]: [number, number]): boolean {
  const [have, haveMinor] = Deno.osRelease().split(/[.-]/).map(Number);
  return have > major || (have === major && haveMinor >= minor);
}
