/**
 * The resident planner: one process per state root that serves `cell` calls over a unix
 * socket in that root, so a call costs no Deno start. It does all the TypeScript work of a
 * call (its handler is the CLI's main); the calling `cell` (the door) clones the processes.
 * Guards: the root is 0700 and the socket 0600, and a caller of another uid (SO_PEERCRED)
 * or in other namespaces (net, mnt, pid, user, cgroup) is sent back to run in-process. It leaves the caller's cgroups for the hierarchies' roots. A door of other code (version or hash) makes this
 * planner retire: it stops listening at once, finishes its calls and exits, and the door
 * starts a new one. With no call for `idleMs` it exits too, and within a few seconds of its last
 * call when it is the only child of the subreaper that adopted it (conmon waits for it).
 *
 * @module
 */

import { join } from "node:path";
import {
  acceptPeer,
  close,
  listenUnix,
  recvFrame,
  sendFrame,
  shutdownSocket,
  unixConnect,
} from "../syscalls.ts";
import { aloneUnderSubreaper } from "./adopter.ts";
import { type PlannerCall, plannerCall, PlannerFallback } from "./call.ts";
import { DoorLink } from "./door_link.ts";
import { leaveCallerCgroups } from "./leave_cgroups.ts";
import { foreignNamespace, ownNamespaces } from "./namespaces.ts";
import { decodeStrLists, i32Bytes, Kind, PROTOCOL, SOCKET_NAME } from "./protocol.ts";

/** Options of {@linkcode servePlanner}. */
export interface PlannerOptions {
  /** The state root served; the socket is `<root>/planner.sock`. */
  root: string;
  /** The code's hash: a door of other code is sent back and this planner retires. */
  codeHash: string;
  /** Exit after this long without a call (default one minute). */
  idleMs?: number;
  /** Runs one call; resolves to its exit code. */
  handle(call: PlannerCall): Promise<number>;
  /** Where the planner says what went wrong outside a call (default: nowhere). */
  log?(message: string): void;
}

/**
 * How a planner's life ended: idle, retired for a door of other code, its socket gone or
 * taken by another planner, or idle briefly as the last child of an engine's subreaper.
 */
export type PlannerEnd = "idle" | "stale" | "taken" | "adopted";

/** How long a planner that is its subreaper's last child stays after its last call. */
const ADOPTED_IDLE_MS = 2000;

const encoder = new TextEncoder();

/**
 * Serves the root until idle or retired; resolves with why it ended ("taken": another
 * planner already answers on the socket).
 */
export async function servePlanner(options: PlannerOptions): Promise<PlannerEnd> {
  const path = join(options.root, SOCKET_NAME);
  Deno.mkdirSync(options.root, { recursive: true, mode: 0o700 });
  if (answers(path)) return "taken";
  try {
    Deno.removeSync(path);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  for (const failure of leaveCallerCgroups()) options.log?.(`cannot leave a cgroup: ${failure}`);
  const listener = listenUnix(path);
  const ours = Deno.statSync(path).ino;
  const uid = Deno.uid() ?? 0;
  const namespaces = ownNamespaces();
  let active = 0;
  let end: PlannerEnd = "idle";
  let retired = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const retire = (why: PlannerEnd) => {
    if (retired) return;
    retired = true;
    end = why;
    clearTimeout(timer);
    clearInterval(watch);
    // Only our own socket: a newer planner may have bound the path since.
    try {
      if (Deno.statSync(path).ino === ours) Deno.removeSync(path);
    } catch { /* gone already */ }
    shutdownSocket(listener);
  };
  const arm = () => {
    clearTimeout(timer);
    if (active === 0 && !retired) {
      timer = setTimeout(() => retire("idle"), options.idleMs ?? 60_000);
    }
  };
  const calls = new Set<Promise<void>>();
  let lastCall = Date.now();
  const adoptedIdle = Math.min(options.idleMs ?? 60_000, ADOPTED_IDLE_MS);
  arm();
  // A root removed (or a socket another planner took) ends this one within a second; so does
  // a short idle as the only child of a subreaper (an engine's conmon would wait for us).
  const watch = setInterval(() => {
    try {
      if (Deno.statSync(path).ino !== ours) return retire("taken");
    } catch {
      return retire("taken");
    }
    if (active === 0 && Date.now() - lastCall >= adoptedIdle && aloneUnderSubreaper()) {
      retire("adopted");
    }
  }, 1000);
  try {
    for (;;) {
      const peer = await acceptPeer(listener);
      if (!peer) break;
      active++;
      clearTimeout(timer);
      const guard = { sameUid: peer.uid === uid, namespaces };
      const call = serveConnection(peer, guard, options, () => retire("stale"))
        .catch((e) => options.log?.(`call failed: ${e instanceof Error ? e.message : e}`))
        .finally(() => {
          close(peer.fd);
          active--;
          lastCall = Date.now();
          calls.delete(call);
          arm();
        });
      calls.add(call);
    }
  } finally {
    retire(end);
    close(listener);
  }
  await Promise.all(calls);
  return end;
}

/** Whether a planner already answers on `path`. */
function answers(path: string): boolean {
  try {
    close(unixConnect(path));
    return true;
  } catch {
    return false;
  }
}

/** One call: the HELLO, the checks, ACCEPTED, the handler, EXIT (or FALLBACK). */
async function serveConnection(
  { fd, pid }: { fd: number; pid: number },
  guard: { sameUid: boolean; namespaces: string[] },
  options: PlannerOptions,
  retireStale: () => void,
): Promise<void> {
  const hello = await recvFrame(fd);
  if (!hello) return;
  try {
    const fallback = (reason: string) => sendFrame(fd, Kind.fallback, encoder.encode(reason));
    if (hello.kind !== Kind.hello || hello.fds.length < 3) {
      return fallback(`protocol: a first frame of kind ${hello.kind} with ${hello.fds.length} fds`);
    }
    const [head, argv, env, tail] = decodeStrLists(hello.body, 4);
    if (!guard.sameUid) return fallback("this planner serves another uid");
    // Checked per call (a few stats): the caller may have entered other namespaces.
    const foreign = foreignNamespace(pid, guard.namespaces);
    if (foreign) return fallback(`the caller is in another ${foreign} namespace`);
    if (head[0] !== PROTOCOL || head[1] !== options.codeHash) {
      retireStale();
      return fallback(
        `stale planner: it runs ${PROTOCOL} ${options.codeHash}, the call ${head[0]} ${head[1]}`,
      );
    }
    const link = new DoorLink(fd);
    link.send(Kind.accepted);
    const { call, release } = plannerCall(link, {
      pid,
      argv,
      argv0: tail[0] ?? "cell",
      cwd: head[2] ?? "/",
      env,
      fds: hello.fds,
    });
    let code: number;
    try {
      code = await options.handle(call);
    } catch (e) {
      if (e instanceof PlannerFallback && !link.spawned) return fallback(e.message);
      call.err(`cell: ${e instanceof Error ? e.message : String(e)}`);
      code = 1;
    } finally {
      release();
    }
    link.send(Kind.exit, i32Bytes([code]));
  } finally {
    hello.fds.forEach(close);
  }
}
