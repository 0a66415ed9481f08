/**
 * cgroup v2 device rules: the config's rules plus runc's defaults, compiled and
 * attached as one eBPF program (replacing the one attached before).
 *
 * @module
 */

import type { DeviceRule } from "../config/types.ts";
import { attachDeviceFilter } from "../syscalls.ts";
import { compileDeviceFilter, DEFAULT_ALLOWED_RULES } from "./device_filter.ts";

/** Attaches the device filter for `rules` to the cgroup v2 directory `dir`. */
export function applyDeviceProgram(dir: string, rules: readonly DeviceRule[]): void {
  attachDeviceFilter(compileDeviceFilter([...rules, ...DEFAULT_ALLOWED_RULES]), dir);
}
