/**
 * `linux.intelRdt` as a plan over the resctrl filesystem, decided from what the host holds
 * (read through a {@linkcode ResctrlView}, so the rules are tested without resctrl):
 *
 * - no closID: the group is `<mount>/<id>`, made by cell and removed on destroy (a leftover
 *   group with no task in it is taken over; one with tasks is another's: refused);
 * - closID "/": the default group, the mount's root, never made or removed;
 * - another closID: `<mount>/<closID>`, joined when it exists (and then it must already hold
 *   the schemata the config gives: it is shared, cell does not change it), made when it does
 *   not and schemata are given, refused when it does not and none are; never removed (the
 *   spec: a named group is managed by someone else);
 * - schemata (l3CacheSchema, memBwSchema, then schemata, in that order) are written to a
 *   group cell makes or takes over, each line's resource checked in `<mount>/info` first;
 * - enableMonitoring: the monitoring group `<group>/mon_groups/<id>`, always removed.
 *
 * The processes join through the groups' `tasks` files, the CTRL_MON group's first (a task
 * joins a monitoring group only from its parent group).
 *
 * @module
 */

import type { IntelRdt } from "../config/types.ts";
import { ContainerError } from "../errors.ts";
import { parseSchemaLine, schemataMismatches } from "./schemata.ts";

/** What the planner reads of the resctrl filesystem. */
export interface ResctrlView {
  /** Whether the path exists. */
  exists(path: string): boolean;
  /** A file's text, or undefined when it cannot be read. */
  read(path: string): string | undefined;
}

/** What to do on the resctrl filesystem for one container. */
export interface ResctrlPlan {
  /** The CTRL_MON group's directory (the mount itself for closID "/"). */
  group: string;
  /** Make `group` (it does not exist yet). */
  makeGroup: boolean;
  /** The text to write to `<group>/schemata`, one line each, or undefined for none. */
  schemata?: string;
  /** The monitoring group's directory, with enableMonitoring. */
  monGroup?: string;
  /** Make `monGroup` (it does not exist yet). */
  makeMonGroup: boolean;
  /** The directories destroy removes, deepest first. */
  remove: string[];
  /** The `tasks` files each of the container's processes is written to, in order. */
  tasks: string[];
}

const FIELD = "linux.intelRdt";

/** The plan for `rdt` of container `id`, with resctrl mounted at `mount`. */
export function planResctrl(
  rdt: IntelRdt,
  options: { id: string; mount: string; view: ResctrlView },
): ResctrlPlan {
  const { id, mount, view } = options;
  const lines = [rdt.l3CacheSchema, rdt.memBwSchema, ...rdt.schemata ?? []]
    .filter((l): l is string => l !== undefined && l !== "");
  checkResources(lines, mount, view);
  const closID = rdt.closID;
  const group = closID === "/" ? mount : `${mount}/${closID ?? id}`;
  const exists = view.exists(group);
  const remove: string[] = [];
  let makeGroup = false;
  let schemata: string | undefined;
  if (closID === undefined) {
    if (exists) refuseInUse(group, view);
    makeGroup = !exists;
    remove.push(group);
    schemata = lines.length > 0 ? lines.map((l) => `${l}\n`).join("") : undefined;
  } else if (exists) {
    const current = view.read(`${group}/schemata`) ?? "";
    const differ = lines.length > 0 ? schemataMismatches(lines, current) : [];
    if (differ.length > 0) {
      throw new ContainerError(
        "ConfigInvalid",
        `${FIELD}: the resctrl group ${group} exists and its schemata do not hold ` +
          `${differ.map((l) => JSON.stringify(l)).join(", ")} (they read ` +
          `${JSON.stringify(current.trim())}); a shared group is joined as it is`,
        { path: `${group}/schemata` },
      );
    }
  } else if (lines.length === 0) {
    throw new ContainerError(
      "ConfigInvalid",
      `${FIELD}.closID: there is no resctrl group ${group} (a closID without schemata names ` +
        "a group made beforehand)",
      { path: group },
    );
  } else {
    makeGroup = true;
    schemata = lines.map((l) => `${l}\n`).join("");
  }
  let monGroup: string | undefined;
  let makeMonGroup = false;
  if (rdt.enableMonitoring) {
    if (!view.exists(`${mount}/info/L3_MON`)) {
      throw new ContainerError(
        "ConfigInvalid",
        `${FIELD}.enableMonitoring: this host's resctrl has no monitoring (no ${mount}/info/L3_MON)`,
      );
    }
    monGroup = `${group}/mon_groups/${id}`;
    const monExists = !makeGroup && view.exists(monGroup);
    if (monExists) refuseInUse(monGroup, view);
    makeMonGroup = !monExists;
    remove.unshift(monGroup);
  }
  const tasks = [`${group}/tasks`, ...monGroup ? [`${monGroup}/tasks`] : []];
  return { group, makeGroup, schemata, monGroup, makeMonGroup, remove, tasks };
}

/** Every line's resource must be one this host's resctrl offers (a directory in info/). */
function checkResources(lines: string[], mount: string, view: ResctrlView): void {
  for (const line of lines) {
    const resource = parseSchemaLine(line)?.resource ?? line.slice(0, line.indexOf(":"));
    if (resource !== "" && view.exists(`${mount}/info/${resource}`)) continue;
    throw new ContainerError(
      "ConfigInvalid",
      `${FIELD}: this host's resctrl has no ${resource} resource (nothing in ${mount}/info/ for ` +
        `${JSON.stringify(line)})`,
    );
  }
}

/** A group left with no task in it is taken over; with tasks it is someone else's. */
function refuseInUse(dir: string, view: ResctrlView): void {
  const tasks = view.read(`${dir}/tasks`)?.trim() ?? "";
  if (tasks === "") return;
  throw new ContainerError(
    "IdInUse",
    `${FIELD}: the resctrl group ${dir} already exists with tasks in it: another container's`,
    { path: dir },
  );
}
