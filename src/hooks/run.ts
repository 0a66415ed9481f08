/**
 * Runs OCI lifecycle hooks (`config.json` `hooks`): each hook of a list runs in order, gets
 * the container's state as JSON on stdin, exactly the environment it names, and at most
 * `timeout` seconds.
 *
 * The spec says a failing `prestart`, `createRuntime`, `createContainer` or `startContainer`
 * hook is an error that stops the container: use {@linkcode runHooks}, which throws on the
 * first failure. A failing `poststop` hook only earns a warning: use
 * {@linkcode runHooksWarnOnly}, which runs every hook and returns what failed. `poststart`
 * was warn-only up to runtime-spec 1.2 and is an error from 1.3 on; the caller chooses.
 *
 * Hooks are spawned with `node:child_process` rather than `Deno.Command` because only the
 * former can set `argv[0]`, and the spec gives `args` the meaning of `execv`'s argv.
 *
 * @example Run the createRuntime hooks of a validated config
 * ```ts ignore
 * await runHooks("createRuntime", spec.hooks?.createRuntime, {
 *   ociVersion: spec.ociVersion,
 *   id: "web",
 *   status: "creating",
 *   pid: initPid,
 *   bundle: "/srv/web",
 *   annotations: spec.annotations,
 * });
 * ```
 *
 * @module
 */

import type { ChildProcess } from "node:child_process";
import type { Readable } from "node:stream";
import { type Hook, HOOK_KINDS, type HookKind } from "../config/types.ts";
import { ContainerError } from "../errors.ts";
import { isExecutable } from "../executable.ts";
import { describeSignal } from "../process/signals.ts";
import { hookFailureText, hookLabel } from "./message.ts";

export { type Hook, HOOK_KINDS, type HookKind };

/** The container's state as a hook reads it from stdin (the spec's "State" object). */
export interface HookState {
  /** The runtime-spec version the state follows, e.g. `"1.0.2"`. */
  ociVersion: string;
  /** The container id. */
  id: string;
  /** `"creating"`, `"created"`, `"running"` or `"stopped"`. */
  status: string;
  /**
   * The init's pid (required by the spec while `created` or `running`). Hooks run in the
   * container's namespaces should get the pid as the container sees it.
   */
  pid?: number;
  /** Absolute path of the bundle directory. */
  bundle: string;
  /** The config's annotations. */
  annotations?: Record<string, string>;
}

/** Options for {@linkcode runHooks} and {@linkcode runHooksWarnOnly}. */
export interface RunHooksOptions {
  /**
   * Host pid of a process (the container's init) whose namespaces, root and working
   * directory the hooks run in, as `createContainer` and `startContainer` hooks must; the
   * hook's `path` then resolves inside that root. Done with util-linux `nsenter`, which must
   * be installed; through it a hook's `argv[0]` is its `path`.
   */
  namespacesOf?: number;
  /**
   * With `namespacesOf`: stay in the runtime's mount namespace (the hook's path resolves
   * on the host) and enter the others, as `createContainer` hooks run here.
   */
  hostMounts?: boolean;
}

/** Bytes of stdout and of stderr kept from each hook, the last ones written. */
export const HOOK_OUTPUT_TAIL_BYTES = 4096;

/** How long output still in the pipes is awaited once a hook has exited, in milliseconds. */
const DRAIN_TIMEOUT_MS = 200;

/** Where `nsenter` is looked for. */
const NSENTER_PATHS = ["/usr/bin/nsenter", "/bin/nsenter", "/usr/sbin/nsenter", "/sbin/nsenter"];

/** How one hook ended. */
interface HookOutcome {
  /** Exit status, when it exited. */
  code: number | null;
  /** The signal that killed it, when one did. */
  signal: string | null;
  /** Whether it was killed for running past its timeout. */
  timedOut: boolean;
  /** Why it could not be started, when it could not. */
  error?: Error;
  /** The end of what it wrote to stdout. */
  stdout: string;
  /** The end of what it wrote to stderr. */
  stderr: string;
}

/**
 * Runs the hooks of one list in order and stops at the first failure: a non-zero exit, a
 * signal, a program that cannot be started, or a timeout (the hook's process group is
 * killed with SIGKILL).
 *
 * @throws {ContainerError} code `SystemError`, `path` the hook's path, with a message such
 *   as `error running hook #0 (poststart /usr/bin/x): exit status 3: <end of its stderr>`
 *   (runc's "error running hook #N", which engines and runc's tests look for).
 *
 * @example
 * ```ts ignore
 * await runHooks("startContainer", spec.hooks?.startContainer, state, { namespacesOf: pid });
 * ```
 */
export async function runHooks(
  kind: HookKind,
  hooks: readonly Hook[] | undefined,
  state: HookState,
  options: RunHooksOptions = {},
): Promise<void> {
  const input = JSON.stringify(state);
  for (const [index, hook] of (hooks ?? []).entries()) {
    const failure = describeFailure(hook, await runHook(hook, input, options));
    if (failure !== undefined) throw hookError(kind, index, hook, failure);
  }
}

/**
 * Runs every hook of one list in order, whatever fails, and returns one message per failed
 * hook (empty when all succeeded), for the caller to log as warnings.
 *
 * @example
 * ```ts ignore
 * for (const warning of await runHooksWarnOnly("poststop", spec.hooks?.poststop, state)) {
 *   console.warn(warning);
 * }
 * ```
 */
export async function runHooksWarnOnly(
  kind: HookKind,
  hooks: readonly Hook[] | undefined,
  state: HookState,
  options: RunHooksOptions = {},
): Promise<string[]> {
  const input = JSON.stringify(state);
  const warnings: string[] = [];
  for (const [index, hook] of (hooks ?? []).entries()) {
    const failure = describeFailure(hook, await runHook(hook, input, options));
    if (failure !== undefined) warnings.push(hookError(kind, index, hook, failure).message);
  }
  return warnings;
}

/** The failure of a hook as `<what happened>[: <end of its output>]`, or undefined. */
interface HookFailure {
  /** The text after `failed: `. */
  detail: string;
  /** The spawn error, when the hook could not be started. */
  cause?: Error;
}

function describeFailure(hook: Hook, outcome: HookOutcome): HookFailure | undefined {
  if (outcome.error !== undefined) {
    return { detail: `cannot run it: ${outcome.error.message}`, cause: outcome.error };
  }
  let what: string;
  if (outcome.timedOut) what = `timed out after ${hook.timeout}s`;
  else if (outcome.signal !== null) what = `killed by signal ${describeSignal(outcome.signal)}`;
  else if (outcome.code !== 0) what = `exit status ${outcome.code}`;
  else return undefined;
  const output = outcome.stderr.trim() || outcome.stdout.trim();
  return { detail: output === "" ? what : `${what}: ${output}` };
}

/**
 * The message of a failed hook, in runc's words with cell's details:
 * `error running hook #<index> (<kind> <path>): <what happened>`.
 */
export function hookFailureMessage(
  kind: HookKind,
  index: number,
  path: string,
  detail: string,
): string {
  return hookFailureText(hookLabel(kind, index, path), detail);
}

function hookError(
  kind: HookKind,
  index: number,
  hook: Hook,
  failure: HookFailure,
): ContainerError {
  return new ContainerError(
    "SystemError",
    hookFailureMessage(kind, index, hook.path, failure.detail),
    {
      path: hook.path,
      cause: failure.cause,
    },
  );
}

/** Spawns one hook, feeds it `input`, and waits for it to exit or time out. */
async function runHook(hook: Hook, input: string, options: RunHooksOptions): Promise<HookOutcome> {
  let command: HookCommand;
  try {
    command = hookCommand(hook, options.namespacesOf, options.hostMounts ?? false);
  } catch (e) {
    const error = e instanceof Error ? e : new Error(String(e));
    return { code: null, signal: null, timedOut: false, error, stdout: "", stderr: "" };
  }
  // Loaded only when a hook runs: the node compatibility layer is slow to load, and most
  // CLI calls run no hook.
  const { spawn } = await import("node:child_process");
  const child = spawn(command.file, command.args, {
    argv0: command.argv0,
    env: envObject(hook.env ?? []),
    stdio: ["pipe", "pipe", "pipe"],
    detached: true, // its own process group, so a timeout also kills what it started
  });
  const closed = new Promise((resolve) => child.once("close", resolve));
  const ended = exited(child);
  const stdout = collectTail(child.stdout);
  const stderr = collectTail(child.stderr);
  child.stdin?.on("error", () => {}); // a hook need not read its stdin (EPIPE)
  child.stdin?.end(input);
  let timedOut = false;
  const timer = hook.timeout === undefined ? undefined : setTimeout(() => {
    timedOut = true;
    killGroup(child);
  }, hook.timeout * 1000);
  try {
    const end = await ended;
    clearTimeout(timer);
    if (end.error === undefined) await drained(closed);
    return { ...end, timedOut, stdout: stdout(), stderr: stderr() };
  } finally {
    clearTimeout(timer);
    child.stdout?.destroy();
    child.stderr?.destroy();
  }
}

/** What to spawn for a hook. */
interface HookCommand {
  /** The program to execute. */
  file: string;
  /** Its arguments after `argv[0]`. */
  args: string[];
  /** Its `argv[0]`. */
  argv0: string;
}

/** The program, arguments and `argv[0]` that run `hook`, directly or through `nsenter`. */
function hookCommand(
  hook: Hook,
  namespacesOf: number | undefined,
  hostMounts: boolean,
): HookCommand {
  const args = hook.args?.slice(1) ?? [];
  if (namespacesOf === undefined) {
    return { file: hook.path, args, argv0: hook.args?.[0] ?? hook.path };
  }
  const nsenter = NSENTER_PATHS.find(isExecutable);
  if (nsenter === undefined) {
    throw new Error(
      `nsenter (util-linux) is needed to enter the container, tried ${NSENTER_PATHS}`,
    );
  }
  const enter = hostMounts
    ? ["--target", String(namespacesOf), "--net", "--uts", "--ipc", "--pid", "--cgroup", "--"]
    : ["--target", String(namespacesOf), "--all", "--root", "--wd", "--"];
  return { file: nsenter, args: [...enter, hook.path, ...args], argv0: nsenter };
}

/** A hook's `KEY=value` list as an object; for a repeated key the last entry wins. */
function envObject(env: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of env) {
    const at = entry.indexOf("=");
    if (at > 0) out[entry.slice(0, at)] = entry.slice(at + 1);
  }
  return out;
}

/** Keeps the last {@linkcode HOOK_OUTPUT_TAIL_BYTES} of a stream; returns a reader. */
function collectTail(stream: Readable | null): () => string {
  let tail = new Uint8Array(0);
  stream?.on("data", (chunk: Uint8Array) => {
    const joined = new Uint8Array(tail.length + chunk.length);
    joined.set(tail);
    joined.set(chunk, tail.length);
    tail = joined.slice(Math.max(0, joined.length - HOOK_OUTPUT_TAIL_BYTES));
  });
  return () => new TextDecoder().decode(tail);
}

/** Kills the child's process group (itself and what it started) with SIGKILL. */
function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    Deno.kill(-child.pid, "SIGKILL");
  } catch {
    // Already gone: it exited between the timer firing and the kill.
  }
}

/** Resolves when the child exits (not when its pipes close), or fails to start. */
function exited(
  child: ChildProcess,
): Promise<{ code: number | null; signal: string | null; error?: Error }> {
  return new Promise((resolve) => {
    child.once("exit", (code, signal) => resolve({ code, signal }));
    child.once("error", (error) => resolve({ code: null, signal: null, error }));
  });
}

/**
 * Waits a little for output still in the pipes after the hook exited: whatever it left
 * running (that is not killed) may hold them open for much longer.
 */
async function drained(closed: Promise<unknown>): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    closed,
    new Promise((resolve) => timer = setTimeout(resolve, DRAIN_TIMEOUT_MS)),
  ]);
  clearTimeout(timer);
}
