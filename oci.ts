/**
 * What only an OCI runtime needs on top of the library: bundles, pid files, preserved
 * fds, console sockets, the features document, runc's signal names, the host's
 * cgroup mode and the resident planner that serves `cell` calls without a Deno start. `cli.ts` is built on this and `mod.ts`; a program that embeds cell
 * rarely needs it.
 *
 * @example Create a container from a bundle as `runc create` does
 * ```ts ignore
 * import { createFactory, defaultStateRoot } from "@cell/cell";
 * import { preservedFds, readBundle, writePidFile } from "@cell/cell/oci";
 *
 * const { bundle, config } = readBundle("./mybundle");
 * const factory = createFactory({ root: defaultStateRoot() });
 * const box = await factory.create("web", config, { bundle });
 * const init = await box.createInit({ detached: true, extraFds: preservedFds(1) });
 * writePidFile("web.pid", init.pid);
 * ```
 *
 * @module
 */

export { bundlePaths, preservedFds, readBundle, writePidFile } from "./src/oci/bundle.ts";
export type { Bundle, BundlePaths } from "./src/oci/bundle.ts";
export { connectConsoleSocket } from "./src/oci/console_socket.ts";
export type { ConsoleSocket } from "./src/oci/console_socket.ts";
export { featuresDocument } from "./src/oci/features.ts";
export type { Features, LinuxFeatures } from "./src/oci/features.ts";
export { signalNumber, SIGNALS } from "./src/process/signals.ts";
export { detectCgroupMode } from "./src/cgroups/mod.ts";
export type { CgroupMode } from "./src/cgroups/mod.ts";
export { isAbsolute, join, resolve } from "./src/path.ts";
export { servePlanner } from "./src/planner/server.ts";
export type { PlannerEnd, PlannerOptions } from "./src/planner/server.ts";
export { PlannerFallback } from "./src/planner/call.ts";
export type { PlannerCall } from "./src/planner/call.ts";
export { OFF_SWITCH_NAME, SOCKET_NAME } from "./src/planner/protocol.ts";
