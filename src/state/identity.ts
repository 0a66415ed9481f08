/**
 * A process identified by pid and start time, so a reused pid is never mistaken for
 * the container's init.
 *
 * @module
 */

/** A pid with the start time the kernel gave it (clock ticks since boot). */
export interface ProcessIdentity {
  /** Host pid. */
  pid: number;
  /** Field 22 of /proc/<pid>/stat. */
  startTime: number;
}

/** What /proc/<pid>/stat says: the state letter and start time, or null if gone. */
export function readStat(pid: number): { state: string; startTime: number } | null {
  let text: string;
  try {
    text = Deno.readTextFileSync(`/proc/${pid}/stat`);
  } catch {
    return null;
  }
  // The command name may hold spaces and parentheses; fields resume after the last ")".
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return { state: fields[0], startTime: Number(fields[19]) };
}

/** The identity of a live pid, or null. */
export function identify(pid: number): ProcessIdentity | null {
  const stat = readStat(pid);
  return stat ? { pid, startTime: stat.startTime } : null;
}

/** Whether the identity still names a live (non-zombie) process. */
export function isAlive(id: ProcessIdentity): boolean {
  const stat = readStat(id.pid);
  return stat !== null && stat.startTime === id.startTime && stat.state !== "Z" &&
    stat.state !== "X";
}
