/**
 * Moving a controller between the two sides of a hybrid cgroup host, for the bench (crun
 * wants the cgroup2 side empty) and the tests (which mount v1 hierarchies they need, such
 * as hugetlb, net_cls or net_prio, and put the host back as they found it).
 *
 * Mounting a v1 hierarchy for a controller takes it off the cgroup2 side (EBUSY while a
 * cgroup2 directory below the root has it enabled). Unmounting gives it back only if the
 * hierarchy has no child cgroups at that moment, dying ones included: a cgroup removed a
 * moment ago may still be counted, and then the hierarchy lives on unmounted and keeps the
 * controller until it is mounted and unmounted again. So the unmount checks and retries.
 *
 * @module
 */

const UNIFIED = "/sys/fs/cgroup/unified";

async function run(cmd: string, args: string[]): Promise<string | null> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  return out.success ? null : new TextDecoder().decode(out.stderr).trim();
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** The controllers the hybrid host's cgroup2 root offers ([] if there is none). */
export function unifiedControllers(root = UNIFIED): string[] {
  try {
    return Deno.readTextFileSync(`${root}/cgroup.controllers`).trim().split(/\s+/).filter((c) =>
      c !== ""
    );
  } catch {
    return [];
  }
}

/**
 * Mounts a v1 hierarchy of `controller` at `mountPoint` (an existing directory), retrying
 * for up to 5 s while the cgroup2 side still uses it.
 */
export async function mountV1(controller: string, mountPoint: string): Promise<void> {
  let error = "";
  for (let attempt = 0; attempt < 50; attempt++) {
    const failed = await run("mount", ["-t", "cgroup", "-o", controller, "cgroup", mountPoint]);
    if (failed === null) return;
    error = failed;
    if (attempt === 0) releaseFromUnified(controller);
    await sleep(100);
  }
  const holders = enabledBelowRoot(controller);
  throw new Error(
    `cannot mount a cgroup v1 ${controller} hierarchy at ${mountPoint}: ${error}` +
      (holders.length > 0
        ? `\n(${controller} is enabled below the cgroup2 root in: ` +
          `${holders.join(", ")})`
        : ""),
  );
}

/**
 * Takes `controller` out of every cgroup2 subtree_control below the root, deepest first,
 * and then out of the root's: cgroups left by an earlier run (or another program) keep it
 * in use on the cgroup2 side, and v1 cannot have it until none does. Processes may stay
 * where they are; only the controller's limits below those cgroups go away.
 */
function releaseFromUnified(controller: string): void {
  const holders = enabledBelowRoot(controller).sort((a, b) => b.length - a.length);
  for (const dir of [...holders, UNIFIED]) {
    try {
      Deno.writeTextFileSync(`${dir}/cgroup.subtree_control`, `-${controller}`);
    } catch { /* gone meanwhile, or still busy: the retries report it */ }
  }
  if (holders.length > 0) {
    console.error(`(took ${controller} out of ${holders.length} cgroup2 dirs to mount it on v1)`);
  }
}

/** cgroup2 directories below the root that enable `controller` for their children. */
function enabledBelowRoot(controller: string, dir = UNIFIED, depth = 0): string[] {
  const found: string[] = [];
  if (depth > 6) return found;
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(dir)];
  } catch {
    return found;
  }
  for (const entry of entries) {
    if (!entry.isDirectory) continue;
    const child = `${dir}/${entry.name}`;
    try {
      const enabled = Deno.readTextFileSync(`${child}/cgroup.subtree_control`).split(/\s+/);
      if (enabled.includes(controller)) found.push(child);
    } catch { /* gone meanwhile */ }
    found.push(...enabledBelowRoot(controller, child, depth + 1));
  }
  return found;
}

/**
 * The hierarchy id /proc/cgroups gives `controller`: 0 when it is bound to no v1 hierarchy
 * (it is on the cgroup2 side, or unused), undefined if the kernel lacks it.
 */
export function v1HierarchyId(controller: string): number | undefined {
  for (const line of Deno.readTextFileSync("/proc/cgroups").split("\n")) {
    const [name, id] = line.split("\t");
    if (name === controller) return Number(id);
  }
  return undefined;
}

/**
 * Unmounts the v1 hierarchy of `controller` at `mountPoint` and waits until the hierarchy
 * is gone (the controller back on the cgroup2 side), mounting and unmounting again
 * (bounded) while a dying child cgroup keeps the hierarchy alive.
 */
export async function unmountV1(controller: string, mountPoint: string): Promise<void> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const failed = await run("umount", [mountPoint]);
    if (failed !== null) throw new Error(`umount ${mountPoint}: ${failed}`);
    for (let wait = 0; wait < 10; wait++) {
      if (v1HierarchyId(controller) === 0) return;
      await sleep(50);
    }
    await mountV1(controller, mountPoint);
    await sleep(100);
  }
  throw new Error(`the v1 ${controller} hierarchy outlived unmounting ${mountPoint}`);
}
