/**
 * Validation of `linux.seccomp`: the profile is compiled for this machine's architecture
 * (the compiler names the JSON path of any problem), so a profile that validates is one
 * that loads. Internal to `src/config/`.
 *
 * @module
 */

import { ContainerError } from "../errors.ts";
import { compileSeccompCached } from "../seccomp/cache.ts";
import type { Seccomp, SeccompTarget } from "../seccomp/compile.ts";
import { addProblem, expectObject, type Problems } from "./problems.ts";

/** The seccomp target of the machine cell runs on. */
export function hostSeccompArch(): SeccompTarget {
  return Deno.build.arch === "aarch64" ? "aarch64" : "x86_64";
}

/** Checks `linux.seccomp` by compiling it; returns it as given when it compiles. */
export function validateSeccomp(problems: Problems, value: unknown): Seccomp | undefined {
  if (expectObject(problems, "linux.seccomp", value) === undefined) return undefined;
  try {
    compileSeccompCached(value as Seccomp, hostSeccompArch());
  } catch (e) {
    if (!(e instanceof ContainerError) || e.code !== "ConfigInvalid") throw e;
    for (const line of e.message.split("\n").filter((l) => l.trim() !== "")) {
      const at = line.indexOf(": ");
      const where = at > 0 && line.startsWith("linux.seccomp")
        ? line.slice(0, at)
        : "linux.seccomp";
      addProblem(problems, where, at > 0 && where !== "linux.seccomp" ? line.slice(at + 2) : line);
    }
    return undefined;
  }
  return value as Seccomp;
}
