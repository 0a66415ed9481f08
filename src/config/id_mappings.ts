/**
 * Validation of id mapping lists (`linux.uidMappings`, a mount's `uidMappings`, ...), one
 * rule set for every place the spec has them, and the text of a map.
 *
 * @module
 */

import {
  addProblem,
  expectInteger,
  expectObjectList,
  field,
  indexPath,
  type JsonObject,
  keyPath,
  type Problems,
} from "./problems.ts";
import type { IdMapping } from "./types.ts";

const MAX_MAPPED_ID = 2 ** 32 - 1;

/** The most ranges one uid_map or gid_map takes (the kernel's limit since Linux 4.15). */
export const MAX_ID_RANGES = 340;

/**
 * The longest uid_map or gid_map text the kernel takes: it wants the whole map in one
 * write shorter than a page (EINVAL otherwise), 4096 bytes being the smallest page size.
 */
export const MAX_MAP_BYTES = 4095;

/** An optional list of id mappings at `path`; the good ones, each problem recorded. */
export function checkIdMappings(problems: Problems, path: string, value: unknown): IdMapping[] {
  return expectObjectList(problems, path, value, checkIdMapping);
}

/**
 * The rules the kernel applies when a map is written, checked before: at most
 * {@linkcode MAX_ID_RANGES} ranges, and no two ranges overlapping on either side.
 */
export function checkDisjoint(
  problems: Problems,
  path: string,
  mappings: readonly IdMapping[],
): void {
  if (mappings.length > MAX_ID_RANGES) {
    addProblem(problems, path, `at most ${MAX_ID_RANGES} ranges (the kernel's limit)`);
    return;
  }
  checkMapLength(problems, path, mappings);
  mappings.forEach((m, i) => {
    const earlier = mappings.slice(0, i).findIndex((o) =>
      overlaps(o.containerID, o.size, m.containerID, m.size) ||
      overlaps(o.hostID, o.size, m.hostID, m.size)
    );
    if (earlier >= 0) {
      addProblem(problems, indexPath(path, i), `overlaps ${indexPath(path, earlier)}`);
    }
  });
}

/**
 * The map's text ({@linkcode mapContent}, the lines written to uid_map or gid_map, by cell
 * or by newuidmap/newgidmap) must fit in {@linkcode MAX_MAP_BYTES}: a problem at `path`
 * otherwise.
 */
export function checkMapLength(
  problems: Problems,
  path: string,
  mappings: readonly IdMapping[],
): void {
  const bytes = new TextEncoder().encode(mapContent(mappings)).length;
  if (bytes > MAX_MAP_BYTES) {
    addProblem(
      problems,
      path,
      `written as ${bytes} bytes of "containerID hostID size" lines; the kernel takes at most ` +
        `${MAX_MAP_BYTES} (less than a page): fewer or shorter ranges`,
    );
  }
}

function overlaps(start: number, size: number, otherStart: number, otherSize: number): boolean {
  return start < otherStart + otherSize && otherStart < start + size;
}

function checkIdMapping(
  problems: Problems,
  path: string,
  object: JsonObject,
): IdMapping | undefined {
  const id = (key: string, min: number): number | undefined =>
    expectInteger(problems, keyPath(path, key), field(object, key), min, MAX_MAPPED_ID);
  const containerID = id("containerID", 0);
  const hostID = id("hostID", 0);
  const size = id("size", 1);
  if (containerID === undefined || hostID === undefined || size === undefined) return undefined;
  if (Math.max(containerID, hostID) + size > MAX_MAPPED_ID + 1) {
    addProblem(problems, keyPath(path, "size"), "range runs past the largest id (2^32 - 1)");
    return undefined;
  }
  return { containerID, hostID, size };
}

/** The text of a uid_map or gid_map: one `inside outside count` line per range. */
export function mapContent(mappings: readonly IdMapping[]): string {
  return mappings.map((m) => `${m.containerID} ${m.hostID} ${m.size}\n`).join("");
}
