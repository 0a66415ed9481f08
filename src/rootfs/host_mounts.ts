/**
 * What the rootfs planner needs to know of the host's mounts and files, read here so that
 * planning itself reads nothing (see `src/plan/host_facts.ts`).
 *
 * @module
 */

/**
 * The mount points of every whole procfs and sysfs mount of our mount namespace (which a
 * new one is a copy of), from `/proc/self/mountinfo`. Without pivot_root those outside
 * the rootfs stay reachable under the container's chroot, and a whole procfs or sysfs in
 * sight lets a process there mount a fresh one; the plan detaches them (as runc does).
 */
export function hostPseudoFilesystems(): string[] {
  const found: string[] = [];
  for (const line of Deno.readTextFileSync("/proc/self/mountinfo").split("\n")) {
    const [left, right] = line.split(" - ");
    if (right === undefined) continue;
    const fields = left.split(" ");
    const root = unescapeMountinfo(fields[3] ?? "");
    const mountpoint = unescapeMountinfo(fields[4] ?? "");
    const fstype = right.split(" ")[0];
    if (root !== "/" || (fstype !== "proc" && fstype !== "sysfs")) continue;
    found.push(mountpoint);
  }
  return found;
}

/** mountinfo writes space, tab, newline and backslash as octal escapes (`\040`). */
function unescapeMountinfo(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal) => String.fromCharCode(parseInt(octal, 8)));
}

/** Of the given paths, those that exist and are not directories (stat follows links). */
export function nonDirectories(paths: readonly string[]): string[] {
  return paths.filter((path) => {
    try {
      return !Deno.statSync(path).isDirectory;
    } catch {
      return false;
    }
  });
}
