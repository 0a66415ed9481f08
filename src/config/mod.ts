/**
 * Container configuration: the supported subset of the OCI runtime-spec `config.json`, its
 * validation, and ready-made configs. Pure TypeScript with no side effects.
 *
 * @example Validate a config, or start from the default one
 * ```ts ignore
 * import { defaultConfig, validateConfig } from "./mod.ts";
 * const spec = validateConfig(defaultConfig({ rootfs: "rootfs" }), { bundle: "/srv/web" });
 * ```
 *
 * @module
 */

export type {
  Capabilities,
  Device,
  DeviceRule,
  Hook,
  HookKind,
  Hooks,
  IdMapping,
  Linux,
  Mount,
  Namespace,
  NamespaceType,
  Process,
  Propagation,
  Resources,
  Rlimit,
  RlimitType,
  Root,
  Spec,
  User,
} from "./types.ts";
export { HOOK_KINDS, NAMESPACE_TYPES, PROPAGATION_MODES, RLIMIT_TYPES } from "./types.ts";
export { CAPABILITIES } from "./capabilities.ts";
export { validateConfig, type ValidateOptions } from "./validate.ts";
export {
  defaultConfig,
  type DefaultConfigOptions,
  sandboxConfig,
  type SandboxConfigOptions,
} from "./defaults.ts";
