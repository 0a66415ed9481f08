/**
 * `spec`: writes a starting config.json into the bundle (`--rootless` for a non-root user),
 * field for field what `runc spec` 1.1.5 writes, except the hostname ("cell") and one more
 * masked path (`/sys/devices/virtual/tpm`, which later runc versions mask too).
 *
 * @module
 */

import { ContainerError, defaultConfig, type Spec } from "../../../mod.ts";
import { detectCgroupMode, join } from "../../../oci.ts";
import type { Command } from "../context.ts";
import { callerPath } from "../io.ts";
import { args, bool, parseFlags, str } from "../flags.ts";

/** `spec [--bundle DIR] [--rootless]`. */
// deno-lint-ignore require-await
export const spec: Command = async (ctx, argv) => {
  const p = parseFlags(argv, {
    bundle: { type: "string", short: "b", help: "the bundle directory to write config.json in" },
    rootless: { type: "boolean", help: "a config for a container run by a non-root user" },
  });
  args(p, { exactly: 0 }, "spec");
  const file = join(callerPath(ctx.io, str(p, "bundle", ".")!), "config.json");
  try {
    Deno.statSync(file);
    throw new ContainerError("ConfigInvalid", `File ${file} exists. Remove it first`);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  const config = runcSpec(bool(p, "rootless"), detectCgroupMode() === "v2");
  Deno.writeTextFileSync(file, JSON.stringify(config, null, "\t") + "\n");
  return 0;
};

/**
 * The library's default config in `runc spec`'s shape: a terminal, the capabilities also
 * listed as ambient (without inheritable ones the kernel raises none, as with runc), a
 * cgroup namespace only on a cgroup v2 host, and runc's field order.
 */
export function runcSpec(rootless: boolean, cgroupV2: boolean): Spec {
  const base = defaultConfig({ rootfs: "rootfs", rootless });
  const process = base.process!;
  process.terminal = true;
  const caps = process.capabilities!;
  process.capabilities = { ...caps, ambient: [...(caps.bounding ?? [])] };
  const linux = base.linux!;
  if (!cgroupV2) linux.namespaces = linux.namespaces?.filter((n) => n.type !== "cgroup");
  const { resources, namespaces, ...rest } = linux;
  return {
    ociVersion: base.ociVersion,
    process,
    root: base.root,
    hostname: base.hostname,
    mounts: base.mounts,
    linux: {
      ...(resources ? { resources } : {}),
      ...rest.uidMappings ? { uidMappings: rest.uidMappings, gidMappings: rest.gidMappings } : {},
      namespaces,
      maskedPaths: rest.maskedPaths,
      readonlyPaths: rest.readonlyPaths,
    },
  };
}
