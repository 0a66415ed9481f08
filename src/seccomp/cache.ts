/**
 * A small cache of compiled seccomp filters, so that starting the same container (or
 * several containers with one profile) does not recompile the profile every time.
 *
 * Entries are keyed by the target architecture and a canonical JSON of the profile
 * (object keys sorted, bigints tagged) itself, not a hash of it, so equal profiles share an
 * entry however they were built and no two profiles can collide. The cache keeps the most recently used {@linkcode SECCOMP_CACHE_SIZE}
 * programs. Failures are not cached: a bad profile throws every time.
 *
 * @module
 */

import type { Problems } from "../config/problems.ts";
import { compileProfile, compileSeccomp, type Seccomp, type SeccompTarget } from "./compile.ts";

/** How many compiled programs the cache keeps. */
export const SECCOMP_CACHE_SIZE = 32;

/** Insertion order is recency order: a hit moves its entry to the end. */
const cache = new Map<string, Uint8Array>();

/** JSON with sorted object keys; bigints become `"<n>n"` strings, `undefined` is dropped. */
function canonical(value: unknown): string {
  if (typeof value === "bigint") return JSON.stringify(`${value}n`);
  if (Array.isArray(value)) {
    return `[${value.map((v) => (v === undefined ? "null" : canonical(v))).join(",")}]`;
  }
  if (typeof value === "object" && value !== null) {
    const obj = value as Record<string, unknown>;
    const keys = Object.keys(obj).filter((k) => obj[k] !== undefined).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(obj[k])}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/** The cache key of a profile for an architecture. */
export function seccompCacheKey(profile: Seccomp, arch: SeccompTarget): string {
  return `${arch}\n${canonical(profile)}`;
}

/** A copy of the program cached under `key`, or of what `compile` makes (then cached). */
function cached(key: string, compile: () => Uint8Array | undefined): Uint8Array | undefined {
  let program = cache.get(key);
  if (program) {
    cache.delete(key);
  } else {
    program = compile();
    if (program === undefined) return undefined;
    while (cache.size >= SECCOMP_CACHE_SIZE) cache.delete(cache.keys().next().value!);
  }
  cache.set(key, program);
  return program.slice();
}

/**
 * {@linkcode compileSeccomp} with a cache: returns a fresh copy of the program compiled
 * earlier for an equal profile and architecture, else compiles and remembers it.
 */
export function compileSeccompCached(profile: Seccomp, arch: SeccompTarget): Uint8Array {
  return cached(seccompCacheKey(profile, arch), () => compileSeccomp(profile, arch))!;
}

/**
 * {@linkcode compileProfile} with the same cache: a bad profile records its
 * problems in `problems` and gives `undefined`.
 */
export function compileProfileCached(
  problems: Problems,
  profile: unknown,
  arch: SeccompTarget,
): Uint8Array | undefined {
  const key = seccompCacheKey(profile as Seccomp, arch);
  return cached(key, () => compileProfile(problems, profile, arch));
}

/** How many programs the cache holds now (for tests). */
export function seccompCacheSize(): number {
  return cache.size;
}

/** Empties the cache (for tests). */
export function clearSeccompCache(): void {
  cache.clear();
}
