/**
 * The container's state in the OCI runtime spec's words: what `cell state` prints and what
 * hooks read on their stdin.
 *
 * @module
 */

import type { Entry } from "./core.ts";
import type { Status } from "./status.ts";

/** The OCI runtime-spec version cell implements. */
export const OCI_SPEC_VERSION = "1.3.0";

/** A container's state in the OCI runtime spec's words. */
export interface OciState {
  /** The spec version. */
  ociVersion: string;
  /** The container id. */
  id: string;
  /** created, running, paused or stopped. */
  status: Exclude<Status, "pausing" | "destroyed">;
  /** The init's host pid while it lives, else 0. */
  pid: number;
  /** The bundle directory. */
  bundle: string;
  /** The root filesystem path. */
  rootfs: string;
  /** ISO time of creation. */
  created: string;
  /** The config's annotations. */
  annotations: Record<string, string>;
}

/** The OCI state of a container as a verb sees it. */
export function ociStateOf(id: string, { state, status }: Entry): OciState {
  const alive = status !== "stopped" && state.init !== null;
  return {
    ociVersion: OCI_SPEC_VERSION,
    id,
    status: (status === "pausing" ? "paused" : status) as OciState["status"],
    pid: alive && state.init ? state.init.pid : 0,
    bundle: state.bundle ?? "",
    rootfs: state.config.root.path,
    created: state.created,
    annotations: state.config.annotations ?? {},
  };
}
