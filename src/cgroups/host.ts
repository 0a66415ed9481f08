/**
 * What the host offers, checked before values are written: which CPUs and memory nodes
 * exist, which huge page sizes.
 *
 * @module
 */

import { parseCpuList } from "../config/cpu_list.ts";
import { ContainerError } from "../errors.ts";

export { parseCpuList };

/** ConfigInvalid unless every entry of `wanted` is in `available` (both cpuset lists). */
export function checkWithin(field: string, wanted: string, available: string): void {
  const have = new Set(parseCpuList(available));
  const missing = parseCpuList(wanted).filter((n) => !have.has(n));
  if (missing.length > 0) {
    throw new ContainerError(
      "ConfigInvalid",
      `${field}: ${missing.join(",")} not available here (the host has ${available.trim()})`,
    );
  }
}

/** "2MB" → the kernel's file name part "2MB"; checks the size exists in `dir`. */
export function checkPageSize(field: string, pageSize: string, exists: boolean): void {
  if (!exists) {
    throw new ContainerError("ConfigInvalid", `${field}: no ${pageSize} huge pages on this host`);
  }
}

/** Whether a path exists. */
export function present(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}
