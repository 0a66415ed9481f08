/**
 * A ProcessHost whose processes the calling `cell` clones: the planner sends it the fds a
 * plan names (SCM_RIGHTS), renames them in the plan to the door's numbers, and sends the
 * plan; the door runs the same native spawn as libcell and answers with the result and the
 * child's pidfd. The child is the door's: its stdio, preserved fds and parent are the
 * caller's, as with a runtime that is not resident.
 *
 * @module
 */

import { decodeSpawnResult, SPAWN_RESULT_SIZE, type SpawnResult } from "../../ffi/abi.ts";
import { encodePlan, planFds } from "../../ffi/plan_encoder.ts";
import type { PlanOp } from "../plan/ops.ts";
import type { ProcessHost } from "../process/host.ts";
import { close, type Exit, pidfdOpen } from "../syscalls.ts";
import type { DoorLink } from "./door_link.ts";
import { i32At, i32Bytes, Kind } from "./protocol.ts";

/** The calling `cell` as the host of a call's processes. */
export class DoorHost implements ProcessHost {
  #link: DoorLink;
  /** The pidfds this host gave out: their pid and inode (fdinfo). */
  #given = new Map<number, { pid: number; ino: string }>();

  /** A host over one call's link. */
  constructor(link: DoorLink) {
    this.#link = link;
  }

  /** Gives the door the plan's fds, then the plan with the door's numbers; its result. */
  async spawn(plan: readonly PlanOp[]): Promise<SpawnResult> {
    const fds = planFds(plan);
    const rename = new Map<number, number>();
    if (fds.length > 0) {
      const count = new Uint8Array(4);
      new DataView(count.buffer).setUint32(0, fds.length, true);
      const reply = await this.#link.exchange(Kind.fds, count, fds, Kind.fdNumbers);
      const got = new DataView(reply.body.buffer, reply.body.byteOffset).getUint32(0, true);
      if (got !== fds.length) throw new Error(`the calling cell got ${got} of ${fds.length} fds`);
      fds.forEach((fd, i) => rename.set(fd, i32At(reply.body, i + 1)));
    }
    const bytes = encodePlan(plan, (fd) => {
      const theirs = rename.get(fd);
      if (theirs === undefined) throw new Error(`fd ${fd} of the plan was not sent`);
      return theirs;
    });
    const reply = await this.#link.exchange(Kind.spawn, bytes, [], Kind.spawned);
    if (reply.body.length < SPAWN_RESULT_SIZE) {
      reply.fds.forEach(close);
      throw new Error(`a spawn result of ${reply.body.length} bytes`);
    }
    const result = decodeSpawnResult(reply.body);
    const [pidfd, ...extra] = reply.fds;
    extra.forEach(close);
    // The door's pidfd, now ours: signals and polls work on it (waitid is the door's job).
    result.pidfd = pidfd ?? (result.pid > 0 ? pidfdOpen(result.pid) : -1);
    if (result.pidfd >= 0) {
      this.#given.set(result.pidfd, { pid: result.pid, ino: fdinfo(result.pidfd).ino ?? "" });
    }
    return result;
  }

  /**
   * When the call ends: closes the pidfds nobody closed (a detached process's handle keeps
   * its pidfd for good, which a resident planner cannot afford). One its owner closed may
   * be another call's fd by now, so only an fd that is still the same pidfd is closed: the
   * same inode (one per process with pidfs, Linux 6.9) and a Pid of this process, or -1
   * once it was reaped.
   */
  release(): void {
    for (const [pidfd, given] of this.#given) {
      const now = fdinfo(pidfd);
      if (now.ino === given.ino && (now.pid === String(given.pid) || now.pid === "-1")) {
        close(pidfd);
      }
    }
    this.#given.clear();
  }

  /** Asks the door to wait for its child, passing it the signals it gets meanwhile. */
  async wait(pid: number): Promise<Exit> {
    const reply = await this.#link.exchange(Kind.wait, i32Bytes([pid]), [], Kind.exited);
    reply.fds.forEach(close);
    const [code, signal] = [i32At(reply.body, 0), i32At(reply.body, 1)];
    return signal !== 0 ? { code: null, signal } : { code, signal: null };
  }
}

/** The inode and Pid lines of an fd's /proc/self/fdinfo (none when it is closed). */
function fdinfo(fd: number): { ino?: string; pid?: string } {
  let text = "";
  try {
    text = Deno.readTextFileSync(`/proc/self/fdinfo/${fd}`);
  } catch { /* closed */ }
  return {
    ino: text.match(/^ino:\s+(\d+)$/m)?.[1],
    pid: text.match(/^Pid:\s+(-?\d+)$/m)?.[1],
  };
}
