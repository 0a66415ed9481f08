/**
 * SIGKILL at every step: a fresh library process (victim.ts) or a fresh `cell` CLI process
 * is killed at a chosen delay into one step of a container's life, then a fresh process
 * cleans up (`destroy()` through the library, `delete --force` through the CLI), and what
 * is left of the container (processes, cgroups, mounts, state) is counted.
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import { cellCommand } from "../cli.ts";
import { LineReader } from "./lines.ts";
import { isClean, type Leftovers, leftoversOf, settledLeftovers } from "./leftovers.ts";
import { idMarker, MARKER_NAME, removeBundle, type SoakSpace, writeBundle } from "./setup.ts";
import { LIBRARY_STEPS, type LibraryStep, type VictimOrder } from "./victim.ts";

const VICTIM = fileURLToPath(new URL("./victim.ts", import.meta.url));

/** The CLI steps a kill can land in. */
export const CLI_STEPS = ["create", "start", "exec", "delete", "run"] as const;

/** One CLI step. */
export type CliStep = typeof CLI_STEPS[number];

/** One kill: which process, in which step, how long after the step began. */
export type KillCase =
  | { via: "library"; step: LibraryStep; delayMs: number }
  | { via: "cli"; step: CliStep; delayMs: number };

/** What one kill found. */
export interface KillOutcome {
  /** The case (`delayMs` Infinity: not killed during the step, the calibration run). */
  kill: KillCase;
  /** The container id. */
  id: string;
  /** Whether the step had already ended when the kill came. */
  stepEnded: boolean;
  /** How long the step took when it ended before the kill, ms. */
  stepMs?: number;
  /** What the kill left, before the cleanup. */
  afterKill: Leftovers;
  /** What the cleanup process said (its output line, or exit code and first stderr line). */
  cleanup: string;
  /** What is left after the cleanup (should be nothing). */
  left: Leftovers;
  /** A failure of the harness's own steps (a step before the target failed). */
  error?: string;
}

const QUIET_ENV = { DENO_NO_UPDATE_CHECK: "1" };

function victimEnv(space: SoakSpace, id: string): Record<string, string> {
  const [name, value] = idMarker(id).split("=");
  return { ...QUIET_ENV, [MARKER_NAME]: space.runId, [name]: value };
}

function victimCommand(space: SoakSpace, id: string, order: VictimOrder): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--no-lock", "--no-config", VICTIM, JSON.stringify(order)],
    stdin: "null",
    stdout: "piped",
    stderr: "null",
    env: victimEnv(space, id),
  });
}

/** The argv of one CLI verb on the soak's CLI state root. */
function cliArgs(step: CliStep, id: string, bundle: string): string[] {
  switch (step) {
    case "create":
      return ["create", "--bundle", bundle, id];
    case "start":
      return ["start", id];
    case "exec":
      return ["exec", id, "true"];
    case "delete":
      return ["delete", "--force", id];
    case "run":
      return ["run", "-d", "--bundle", bundle, id];
  }
}

function cliCommand(space: SoakSpace, id: string, args: string[]): Deno.Command {
  const [program, ...prefix] = cellCommand();
  // stdout and stderr go nowhere: a container's init inherits them (create, run -d).
  return new Deno.Command(program, {
    args: [...prefix, "--root", space.cliRoot, ...args],
    stdin: "null",
    stdout: "null",
    stderr: "null",
    env: victimEnv(space, id),
  });
}

/** The CLI steps run (unkilled) before the target step. */
function cliBefore(step: CliStep): CliStep[] {
  switch (step) {
    case "create":
    case "run":
      return [];
    case "start":
      return ["create"];
    case "exec":
    case "delete":
      return ["create", "start"];
  }
}

/** Waits `ms` precisely: a timer for the bulk, then a spin (library steps last ~1 ms). */
async function waitPrecisely(from: number, ms: number): Promise<void> {
  const until = from + ms;
  if (ms > 4) await new Promise((r) => setTimeout(r, ms - 3));
  while (performance.now() < until) { /* spin */ }
}

async function killAndReap(child: Deno.ChildProcess): Promise<void> {
  try {
    child.kill("SIGKILL");
  } catch { /* exited already */ }
  await child.status;
}

/** Runs one library kill case. */
async function killLibrary(
  space: SoakSpace,
  id: string,
  kill: Extract<KillCase, { via: "library" }>,
): Promise<KillOutcome> {
  const config = writeBundle(space, id, ["sleep", "3600"]) + "/config.json";
  const order: VictimOrder = { do: "step", root: space.libraryRoot, id, config, step: kill.step };
  const child = victimCommand(space, id, order).spawn();
  const lines = new LineReader(child.stdout);
  let error: string | undefined;
  let stepEnded = false;
  let stepMs: number | undefined;
  try {
    const go = await lines.next(30_000);
    if (go !== "go") error = `victim before ${kill.step}: ${go ?? "no answer in 30 s"}`;
    else {
      // Calibration: no kill until the step has ended.
      if (Number.isFinite(kill.delayMs)) await waitPrecisely(performance.now(), kill.delayMs);
      else await lines.waitFor((l) => l.startsWith("done") || l.startsWith("error"), 30_000);
      await killAndReap(child);
      // The line it wrote before it died, if any: the step's end, or its failure.
      const done = lines.seen((l) => l.startsWith("done ")) ??
        await lines.waitFor((l) => l.startsWith("done ") || l.startsWith("error"), 100);
      if (done?.startsWith("done ")) stepEnded = true, stepMs = Number(done.slice(5));
      else if (done?.startsWith("error")) error = `victim in ${kill.step}: ${done}`;
      else if (!Number.isFinite(kill.delayMs)) error = `victim in ${kill.step}: no end in 30 s`;
    }
  } finally {
    await killAndReap(child);
    await lines.close();
  }
  const afterKill = leftoversOf(space.libraryRoot, id);
  const cleanup = await libraryCleanup(space, id);
  const left = await settledLeftovers(space.libraryRoot, id);
  removeBundle(space, id);
  return { kill, id, stepEnded, stepMs, afterKill, cleanup, left, error };
}

/** `destroy()` of the container from a fresh library process. */
async function libraryCleanup(space: SoakSpace, id: string): Promise<string> {
  const order: VictimOrder = { do: "destroy", root: space.libraryRoot, id };
  const child = victimCommand(space, id, order).spawn();
  const lines = new LineReader(child.stdout);
  try {
    return (await lines.next(60_000)) ?? "no answer in 60 s";
  } finally {
    await killAndReap(child);
    await lines.close();
  }
}

/** Runs one CLI kill case. */
async function killCli(
  space: SoakSpace,
  id: string,
  kill: Extract<KillCase, { via: "cli" }>,
): Promise<KillOutcome> {
  const bundle = writeBundle(space, id, ["sleep", "3600"]);
  let error: string | undefined;
  for (const step of cliBefore(kill.step)) {
    const out = await cliCommand(space, id, cliArgs(step, id, bundle)).output();
    if (!out.success) error ??= `cell ${step} before ${kill.step} exited ${out.code}`;
  }
  let stepEnded = false;
  let stepMs: number | undefined;
  if (!error) {
    const t0 = performance.now();
    const child = cliCommand(space, id, cliArgs(kill.step, id, bundle)).spawn();
    if (Number.isFinite(kill.delayMs)) await waitPrecisely(t0, kill.delayMs);
    else {
      const status = await child.status;
      stepMs = performance.now() - t0;
      if (!status.success) error = `cell ${kill.step} exited ${status.code}`;
    }
    await killAndReap(child);
    // Killed by us, or ended before (then it has an exit code of its own).
    stepEnded = (await child.status).signal !== "SIGKILL";
  }
  const afterKill = leftoversOf(space.cliRoot, id);
  const out = await cliCommand(space, id, ["delete", "--force", id]).output();
  const cleanup = `delete --force exited ${out.code}`;
  const left = await settledLeftovers(space.cliRoot, id);
  removeBundle(space, id);
  return { kill, id, stepEnded, stepMs, afterKill, cleanup, left, error };
}

let kills = 0;

/** Runs one kill case on a fresh container id. */
export function runKill(space: SoakSpace, kill: KillCase): Promise<KillOutcome> {
  const id = `${space.runId}-kill-${String(++kills).padStart(5, "0")}`;
  return kill.via === "library" ? killLibrary(space, id, kill) : killCli(space, id, kill);
}

/** How long a fresh `cell` takes before any container work (a `state` of a missing id), ms. */
export async function cliBootMs(space: SoakSpace): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now();
    await cliCommand(space, "none", ["state", `${space.runId}-none`]).output();
    times.push(performance.now() - t0);
  }
  return times.sort((a, b) => a - b)[1];
}

/** Options of {@linkcode killCampaign}. */
export interface CampaignOptions {
  /** Kills per library step (spread over the step's length). */
  libraryPerStep: number;
  /** Kills per CLI step (spread over the process's life, from its boot to its end). */
  cliPerStep: number;
  /** Called after each kill. */
  progress?: (outcome: KillOutcome) => void;
}

/**
 * Every step, first run to its end (the calibration: how long it lasts, and that the
 * unkilled path leaves nothing), then killed at delays spread evenly, with jitter, over
 * the step: 0 to 1.25× its length for a library step, and for a CLI step from 0.8× a bare
 * CLI start (Deno's start-up, no container work) to 1.1× the whole call.
 */
export async function killCampaign(
  space: SoakSpace,
  options: CampaignOptions,
): Promise<KillOutcome[]> {
  const outcomes: KillOutcome[] = [];
  const record = (o: KillOutcome) => {
    outcomes.push(o);
    options.progress?.(o);
    return o;
  };
  for (const step of LIBRARY_STEPS) {
    const calibration = record(await runKill(space, { via: "library", step, delayMs: Infinity }));
    const length = calibration.stepMs ?? 5;
    for (const delayMs of spread(options.libraryPerStep, 0, 1.25 * length)) {
      record(await runKill(space, { via: "library", step, delayMs }));
    }
  }
  const boot = await cliBootMs(space);
  for (const step of CLI_STEPS) {
    const calibration = record(await runKill(space, { via: "cli", step, delayMs: Infinity }));
    const length = calibration.stepMs ?? 2 * boot;
    for (const delayMs of spread(options.cliPerStep, 0.8 * boot, 1.1 * length)) {
      record(await runKill(space, { via: "cli", step, delayMs }));
    }
  }
  return outcomes;
}

/** `n` points in [lo, hi): one in each of n equal slices, at a random place in it. */
export function spread(n: number, lo: number, hi: number): number[] {
  const width = (hi - lo) / n;
  return Array.from({ length: n }, (_, k) => lo + width * (k + Math.random()));
}

/** Whether a kill left nothing after its cleanup (and the harness saw no failure). */
export function killClean(o: KillOutcome): boolean {
  return isClean(o.left) && !o.error;
}
