/**
 * The soak's scratch space: one directory with a busybox rootfs, a bundle per container
 * (the run's marker in its environment; the default cgroup path `/cell/<id>`, what users
 * get), and the state roots.
 *
 * @module
 */

import { join } from "node:path";
import { defaultConfig, type Spec } from "../../mod.ts";
import { busyboxRootfs } from "../../tests/support/rootfs.ts";
import type { Scope } from "./probe.ts";

/** Name of the environment variable that marks the soak's processes (value: the run id). */
export const MARKER_NAME = "CELL_SOAK_RUN";

/** Name of the environment variable that marks one container's processes (value: its id). */
export const ID_MARKER_NAME = "CELL_SOAK_ID";

/** The marker of one container's processes (and of the soak processes that drive it). */
export function idMarker(id: string): string {
  return `${ID_MARKER_NAME}=${id}`;
}

/** The soak's scope plus where its rootfs and state roots are. */
export interface SoakSpace extends Scope {
  /** The shared busybox rootfs. */
  rootfs: string;
  /** State root of the library runs (cycles, burst, library kills). */
  libraryRoot: string;
  /** State root of the CLI runs. */
  cliRoot: string;
}

/** Makes the scratch directory; the run id names this process so that runs cannot collide. */
export async function makeSpace(): Promise<SoakSpace> {
  const dir = await Deno.makeTempDir({ prefix: "cell-soak-" });
  const runId = `soak-${Deno.pid}`;
  const libraryRoot = join(dir, "state-lib");
  const cliRoot = join(dir, "state-cli");
  return {
    dir,
    runId,
    stateRoots: [libraryRoot, cliRoot],
    marker: `${MARKER_NAME}=${runId}`,
    rootfs: await busyboxRootfs(join(dir, "rootfs")),
    libraryRoot,
    cliRoot,
  };
}

/** The config of one soak container: `runc spec`'s default running `args`. */
export function soakConfig(space: SoakSpace, id: string, args: string[]): Spec {
  const spec = defaultConfig({ rootfs: space.rootfs, args });
  spec.process!.env = [...(spec.process!.env ?? []), space.marker, idMarker(id)];
  return spec;
}

/** Writes a bundle (just config.json; the rootfs path is absolute) for one container. */
export function writeBundle(space: SoakSpace, id: string, args: string[]): string {
  const dir = join(space.dir, "bundles", id);
  Deno.mkdirSync(dir, { recursive: true });
  Deno.writeTextFileSync(join(dir, "config.json"), JSON.stringify(soakConfig(space, id, args)));
  return dir;
}

/** Removes one container's bundle. */
export function removeBundle(space: SoakSpace, id: string): void {
  Deno.removeSync(join(space.dir, "bundles", id), { recursive: true });
}
