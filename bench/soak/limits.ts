/**
 * The host and process limits that bound how many containers one process can hold, read
 * before the burst, and the open-files limit raised when the burst needs more.
 *
 * @module
 */

/** The limits that matter for N containers at once. */
export interface Limits {
  /** kernel.pid_max. */
  pidMax: number;
  /** kernel.threads-max. */
  threadsMax: number;
  /** RLIMIT_NPROC of this process, soft and hard (Infinity for unlimited). */
  nproc: [number, number];
  /** RLIMIT_NOFILE of this process, soft and hard, after any raise. */
  nofile: [number, number];
  /** The soft RLIMIT_NOFILE before this module raised it, when it did. */
  nofileRaisedFrom?: number;
}

function readNumber(path: string): number {
  return Number(Deno.readTextFileSync(path).trim());
}

/** Soft and hard value of one line of /proc/self/limits. */
function rlimit(name: string): [number, number] {
  const line = Deno.readTextFileSync("/proc/self/limits").split("\n").find((l) =>
    l.startsWith(name)
  );
  if (!line) throw new Error(`/proc/self/limits has no "${name}" line`);
  const [soft, hard] = line.slice(name.length).trim().split(/\s+/).map((v) =>
    v === "unlimited" ? Infinity : Number(v)
  );
  return [soft, hard];
}

/**
 * Reads the limits and, when the soft open-files limit is below `fdsNeeded` and the hard
 * one allows more, raises the soft one to the hard one (util-linux `prlimit` on this
 * process; Deno itself already does this when it starts, so it is rarely needed).
 */
export async function checkLimits(fdsNeeded: number): Promise<Limits> {
  let nofile = rlimit("Max open files");
  let nofileRaisedFrom: number | undefined;
  if (nofile[0] < fdsNeeded && nofile[1] > nofile[0]) {
    const hard = nofile[1] === Infinity ? "unlimited" : String(nofile[1]);
    const out = await new Deno.Command("prlimit", {
      args: ["--pid", String(Deno.pid), `--nofile=${hard}:${hard}`],
      stdout: "null",
      stderr: "piped",
    }).output();
    if (!out.success) {
      throw new Error(`prlimit --nofile failed: ${new TextDecoder().decode(out.stderr)}`);
    }
    nofileRaisedFrom = nofile[0];
    nofile = rlimit("Max open files");
  }
  return {
    pidMax: readNumber("/proc/sys/kernel/pid_max"),
    threadsMax: readNumber("/proc/sys/kernel/threads-max"),
    nproc: rlimit("Max processes"),
    nofile,
    nofileRaisedFrom,
  };
}
