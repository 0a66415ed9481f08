/**
 * cell: a container runtime for Deno. A Zig core loaded with `Deno.dlopen` does the
 * kernel work (namespaces, mounts, pivot_root, cgroups); this module gives programs
 * a Factory that creates and loads containers, and Containers to start processes in,
 * signal and destroy.
 *
 * @example Run a command in a sandbox that sees the host read-only
 * ```ts ignore
 * import { createFactory, sandboxConfig } from "@cell/cell";
 *
 * const factory = createFactory({ root: "/run/cell" });
 * await using box = await factory.create("hello", sandboxConfig({ args: ["hostname"] }));
 * const proc = await box.start({ stdout: "piped" });
 * const { stdout, code } = await proc.output();
 * console.log(new TextDecoder().decode(stdout), code);
 * ```
 *
 * @module
 */

export { createFactory, Factory } from "./src/container/factory.ts";
export type { CreateOptions, FactoryOptions } from "./src/container/factory.ts";
export { Container, OCI_SPEC_VERSION } from "./src/container/container.ts";
export type { OciState, SignalOptions } from "./src/container/container.ts";
export type { Status } from "./src/container/status.ts";
export type {
  BlockIOStats,
  CgroupStats,
  HugetlbStats,
  NetworkInterfaceStats,
  RdmaEntry,
} from "./src/cgroups/stats.ts";
export type { MiscStats, Pressure, PressureLine } from "./src/cgroups/pressure.ts";
export type { OomEvent } from "./src/cgroups/oom.ts";
export type {
  LoopbackInterface,
  MadeVeth,
  MovedDevice,
  MovedDevices,
  NetnsIdentity,
  NetworkInterface,
  NetworkOptions,
  NetworkRecord,
  VethBridge,
  VethInterface,
  VethRoute,
} from "./src/network/options.ts";
export { ContainerProcess } from "./src/process/handle.ts";
export type { ProcessStatus } from "./src/process/handle.ts";
export type { ProcessOptions, ProcessUser, StdioMode } from "./src/process/options.ts";
export { TerminalProxy } from "./src/terminal_proxy.ts";
export { defaultStateRoot, runtimePaths } from "./src/runtime_paths.ts";
export { ContainerError } from "./src/errors.ts";
export type { ContainerErrorOptions, ErrorCode, SystemErrorDetails } from "./src/errors.ts";
export { CAPABILITIES, defaultConfig, sandboxConfig, validateConfig } from "./src/config/mod.ts";
export type {
  DefaultConfigOptions,
  SandboxConfigOptions,
  ValidateOptions,
} from "./src/config/mod.ts";
export type {
  Seccomp,
  SeccompAction,
  SeccompArchitecture,
  SeccompArg,
  SeccompFlag,
  SeccompOperator,
  SeccompSyscall,
} from "./src/seccomp/compile.ts";
export type * from "./src/config/types.ts";
