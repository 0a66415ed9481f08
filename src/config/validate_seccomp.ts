/**
 * Validation of `linux.seccomp`: the profile is checked (every problem under its JSON path)
 * and compiled for this machine's architecture, so a profile that validates is one that
 * loads, and the compiled program waits in the cache for the start. Internal to
 * `src/config/`.
 *
 * @module
 */

import { compileProfileCached } from "../seccomp/cache.ts";
import type { Seccomp, SeccompTarget } from "../seccomp/compile.ts";
import { expectObject, type Problems } from "./problems.ts";

/** The seccomp target of the machine cell runs on. */
export function hostSeccompArch(): SeccompTarget {
  return Deno.build.arch === "aarch64" ? "aarch64" : "x86_64";
}

/** Checks `linux.seccomp` by compiling it; returns it as given when it compiles. */
export function validateSeccomp(problems: Problems, value: unknown): Seccomp | undefined {
  if (expectObject(problems, "linux.seccomp", value) === undefined) return undefined;
  const program = compileProfileCached(problems, value, hostSeccompArch());
  return program === undefined ? undefined : value as Seccomp;
}
