/**
 * For the planner's tests: an install (front door, in-process script, planner) in a temp
 * prefix, door calls with their output, and the planner process serving a root.
 *
 * @module
 */

import { join } from "node:path";
import { emptyDir } from "./cli.ts";
import { until } from "./fixture.ts";

/** What one door call printed and returned, and which path served it (from --debug). */
export interface DoorResult {
  code: number;
  stdout: string;
  stderr: string;
  /** "in-process", or the pid of the planner that served the call. */
  servedBy: "in-process" | number;
}

/** Options of {@linkcode door}. */
export interface DoorOptions {
  env?: Record<string, string>;
  cwd?: string;
  stdin?: string;
  timeoutMs?: number;
  /** create, run -d: the container keeps the stdio, so no pipes (as tests/support/cli.ts). */
  detached?: boolean;
  /** A command the door runs under, e.g. `["unshare", "-n"]`: the door is its last argument. */
  under?: string[];
}

/** Runs `<prefix>/bin/cell --root root --debug --log <file> args...` and reads who served it. */
export async function door(
  prefix: string,
  root: string,
  args: string[],
  options: DoorOptions = {},
): Promise<DoorResult> {
  const log = `${await emptyDir()}/log`;
  const cell = join(prefix, "bin/cell");
  const [program, ...before] = [...(options.under ?? []), cell];
  const child = new Deno.Command(program, {
    args: [...before, "--root", root, "--debug", "--log", log, ...args],
    env: options.env,
    cwd: options.cwd,
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: options.detached ? "null" : "piped",
    stderr: options.detached ? "null" : "piped",
    signal: AbortSignal.timeout(options.timeoutMs ?? 60_000),
  }).spawn();
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(options.stdin));
    await writer.close();
  }
  if (options.detached) {
    return { code: (await child.status).code, stdout: "", stderr: "", servedBy: servedBy(log) };
  }
  const out = await child.output();
  const text = new TextDecoder();
  return {
    code: out.code,
    stdout: text.decode(out.stdout),
    stderr: text.decode(out.stderr),
    servedBy: servedBy(log),
  };
}

/** Who served the call that logged to `log`. */
export function servedBy(log: string): "in-process" | number {
  let text = "";
  try {
    text = Deno.readTextFileSync(log);
  } catch { /* nothing logged */ }
  const m = text.match(/\((in-process|planner (\d+))\)/);
  if (!m) throw new Error(`no "served by" line in the debug log:\n${text}`);
  return m[2] ? Number(m[2]) : "in-process";
}

/** Calls the door until a planner serves a call (bounded); that planner's pid. */
export async function plannerServing(prefix: string, root: string, env?: Record<string, string>) {
  let pid = 0;
  await until("a planner serving " + root, async () => {
    const r = await door(prefix, root, ["list", "-q"], { env });
    if (r.code !== 0) throw new Error(`cell list: ${r.stderr}`);
    if (r.servedBy === "in-process") return false;
    pid = r.servedBy;
    return true;
  }, 20_000);
  return pid;
}

/** Whether a process lives (and is no zombie). */
export function alive(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(Deno.readTextFileSync(`/proc/${pid}/status`));
  } catch {
    return false;
  }
}

/** A process's parent pid. */
export function parentOf(pid: number): number {
  const m = Deno.readTextFileSync(`/proc/${pid}/status`).match(/^PPid:\s+(\d+)/m);
  return Number(m![1]);
}

/** The direct children of a process. */
export function childrenOf(pid: number): number[] {
  const text = Deno.readTextFileSync(`/proc/${pid}/task/${pid}/children`).trim();
  return text ? text.split(/\s+/).map(Number) : [];
}

/** Waits (bounded) until the planner `pid` has exited. */
export function plannerGone(pid: number, ms = 10_000): Promise<void> {
  return until(`planner ${pid} to exit`, () => !alive(pid), ms);
}
