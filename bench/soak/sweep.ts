/**
 * The soak's own cleanup after its measurements, so that the host is left as it was even
 * when cell leaked: every process with the run's marker or in a cgroup named after the
 * run is killed, those cgroups removed (and the default `/cell` parent if the soak made
 * it and it is empty), mounts naming the run unmounted, the scratch directory removed.
 * It counts what it had to remove: a clean run leaves it nothing.
 *
 * @module
 */

import { cgroupDirs, cgroupHierarchies, markedProcesses } from "./probe.ts";
import type { SoakSpace } from "./setup.ts";

/** What the sweep found and removed. */
export interface SweepResult {
  /** Processes killed. */
  processes: number;
  /** Cgroup directories removed. */
  cgroups: number;
  /** Mounts detached. */
  mounts: number;
  /** Problems met (what could not be removed). */
  problems: string[];
}

/** The hierarchies that have no `/cell` directory now (see {@linkcode sweep}). */
export function hierarchiesWithoutCell(): string[] {
  return cgroupHierarchies().filter((h) => !exists(`${h}/cell`));
}

/** Removes everything of the run; `noCellBefore` from {@linkcode hierarchiesWithoutCell}. */
export async function sweep(space: SoakSpace, noCellBefore: string[]): Promise<SweepResult> {
  const problems: string[] = [];
  const ours = (name: string) => name.includes(space.runId);
  const pids = new Set(markedProcesses(space.marker));
  const dirs = cgroupDirs(ours).sort((a, b) => b.length - a.length);
  for (const dir of dirs) for (const pid of readPids(dir)) pids.add(pid);
  for (const pid of pids) kill(pid);
  for (let i = 0; i < 100 && markedProcesses(space.marker).length > 0; i++) await sleep(20);
  let cgroups = 0;
  for (const dir of dirs) {
    // A process just killed holds its cgroup until it is reaped.
    for (let i = 0;; i++) {
      try {
        Deno.removeSync(dir);
        cgroups++;
        break;
      } catch (e) {
        if (e instanceof Deno.errors.NotFound) break;
        if (i >= 100) {
          problems.push(`rmdir ${dir}: ${e instanceof Error ? e.message : e}`);
          break;
        }
        await sleep(20);
      }
    }
  }
  for (const h of noCellBefore) {
    try {
      Deno.removeSync(`${h}/cell`); // only when empty; another user's container keeps it
    } catch { /* absent, or in use */ }
  }
  let mounts = 0;
  for (const target of mountsOf(space).reverse()) {
    const out = await new Deno.Command("umount", { args: ["-l", target], stderr: "piped" })
      .output();
    if (out.success) mounts++;
    else problems.push(`umount ${target}: ${new TextDecoder().decode(out.stderr).trim()}`);
  }
  try {
    Deno.removeSync(space.dir, { recursive: true });
  } catch (e) {
    problems.push(`remove ${space.dir}: ${e instanceof Error ? e.message : e}`);
  }
  return { processes: pids.size, cgroups, mounts, problems };
}

/** Mount points of the host that name the soak's directory or run id, in mount order. */
function mountsOf(space: SoakSpace): string[] {
  return Deno.readTextFileSync("/proc/self/mountinfo").split("\n")
    .map((line) => line.split(" ")[4])
    .filter((m) => m && (m.includes(space.dir) || m.includes(space.runId)))
    .map((m) => m.replace(/\\040/g, " "));
}

function readPids(dir: string): number[] {
  try {
    return Deno.readTextFileSync(`${dir}/cgroup.procs`).split("\n").filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function kill(pid: number): void {
  try {
    Deno.kill(pid, "SIGKILL");
  } catch { /* gone */ }
}

function exists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
