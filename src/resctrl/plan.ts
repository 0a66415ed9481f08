/**
 * `linux.intelRdt` as a plan over the resctrl filesystem, decided from what the host holds
 * (read through a {@linkcode ResctrlView}, so the rules are tested without resctrl):
 *
 * - no closID: the group is `<mount>/<id>`, made by cell and removed on destroy; one that
 *   exists already was not made by cell, so (the spec: a sub-directory the runtime has not
 *   created MUST NOT be removed) it is joined as an existing named group is, and left;
 * - closID "/": the default group, the mount's root, never made or removed;
 * - another closID: `<mount>/<closID>`, made when it does not exist and schemata are given,
 *   refused when it does not and none are; never removed (the spec: closID set);
 * - a group that exists is joined as it is: it must already hold the schemata the config
 *   gives (the spec: compare, an error if they differ); cell writes nothing to it;
 * - schemata (l3CacheSchema, memBwSchema, then schemata, in that order) are written to a
 *   group cell makes, each line's resource checked in `<mount>/info` first;
 * - enableMonitoring: the monitoring group `<group>/mon_groups/<id>`, made by cell (one that
 *   exists is not the dedicated group the spec asks for: refused) and always removed.
 *
 * No group is ever taken over: a start of cell's own cut short records its groups in the
 * state before it makes them, and a destroy removes them from there.
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
  if (exists) {
    const current = view.read(`${group}/schemata`) ?? "";
    const differ = lines.length > 0 ? schemataMismatches(lines, current) : [];
    if (differ.length > 0) {
      throw new ContainerError(
        "ConfigInvalid",
        `${FIELD}: the resctrl group ${group} exists and its schemata do not hold ` +
          `${differ.map((l) => JSON.stringify(l)).join(", ")} (they read ` +
          `${JSON.stringify(current.trim())}); a group cell did not make is joined as it is`,
        { path: `${group}/schemata` },
      );
    }
  } else if (closID !== undefined && lines.length === 0) {
    throw new ContainerError(
      "ConfigInvalid",
      `${FIELD}.closID: there is no resctrl group ${group} (a closID without schemata names ` +
        "a group made beforehand)",
      { path: group },
    );
  } else {
    makeGroup = true;
    schemata = lines.length > 0 ? lines.map((l) => `${l}\n`).join("") : undefined;
    // Only the id's own group, made by cell, goes on destroy.
    if (closID === undefined) remove.push(group);
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
    if (!makeGroup && view.exists(monGroup)) {
      throw new ContainerError(
        "IdInUse",
        `${FIELD}.enableMonitoring: the monitoring group ${monGroup} already exists (the ` +
          "container's own is made for it)",
        { path: monGroup },
      );
    }
    makeMonGroup = true;
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
