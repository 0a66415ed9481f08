/**
 * Container statuses and the checks every operation makes first.
 *
 * @module
 */

import { ContainerError } from "../errors.ts";

/** Where a container is in its life. */
export type Status = "created" | "running" | "pausing" | "paused" | "stopped" | "destroyed";

/** Throws the error matching a status that does not allow `action`. */
export function refuse(id: string, status: Status, action: string): never {
  switch (status) {
    case "destroyed":
      throw new ContainerError(
        "ContainerDestroyed",
        `cannot ${action} container "${id}": it has been destroyed`,
      );
    case "paused":
    case "pausing":
      throw new ContainerError(
        "ContainerPaused",
        `cannot ${action} container "${id}": it is paused`,
      );
    case "stopped":
      // runc's words: containerd's shim reads "container not running" as "already gone".
      throw new ContainerError(
        "ContainerNotRunning",
        `cannot ${action} container "${id}": container not running (it is stopped)`,
      );
    default:
      throw new ContainerError(
        "ContainerNotRunning",
        `cannot ${action} container "${id}": it is ${status}`,
      );
  }
}
