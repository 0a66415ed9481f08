/**
 * `features`: what this runtime supports, in the OCI features document's shape, so
 * engines can ask before they use something.
 *
 * @module
 */

import { CAPABILITIES } from "../../config/capabilities.ts";
import { HOOK_KINDS } from "../../config/types.ts";
import { lsmEnabled } from "../../config/validate_process.ts";
import { OCI_SPEC_VERSION } from "../../container/container.ts";
import { mountOptionNames } from "../../rootfs/mount_flags.ts";
import type { Command } from "../context.ts";
import { args, parseFlags } from "../flags.ts";

/** The features document. */
export function featuresDocument(): Record<string, unknown> {
  return {
    ociVersionMin: "1.0.0",
    ociVersionMax: OCI_SPEC_VERSION,
    hooks: [...HOOK_KINDS],
    mountOptions: mountOptionNames(),
    linux: {
      namespaces: ["cgroup", "ipc", "mount", "network", "pid", "user", "uts"],
      capabilities: [...CAPABILITIES],
      cgroup: { v1: true, v2: true, systemd: false, systemdUser: false, rdma: false },
      seccomp: {
        enabled: true,
        actions: [
          "SCMP_ACT_ALLOW",
          "SCMP_ACT_ERRNO",
          "SCMP_ACT_KILL",
          "SCMP_ACT_KILL_PROCESS",
          "SCMP_ACT_KILL_THREAD",
          "SCMP_ACT_LOG",
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
      },
      apparmor: { enabled: lsmEnabled("AppArmor") },
      selinux: { enabled: lsmEnabled("SELinux") },
    },
    annotations: { "org.opencontainers.runtime-spec.features.runtime": "cell" },
  };
}

/** `features`: prints the document. */
// deno-lint-ignore require-await
export const features: Command = async (_ctx, argv) => {
  args(parseFlags(argv, {}), { exactly: 0 }, "features");
  console.log(JSON.stringify(featuresDocument(), null, "  "));
  return 0;
};
