/**
 * Steady use: the same container life again and again, a sample of every counter after
 * each, through the library (create + start `true` + wait + destroy in this process) and
 * through the CLI (`cell run` as a fresh process each time, as engines call it).
 *
 * @module
 */

import { createFactory } from "../../mod.ts";
import { cellCommand } from "../cli.ts";
import { type Sample, sample } from "./probe.ts";
import { removeBundle, soakConfig, type SoakSpace, writeBundle } from "./setup.ts";

/** Samples of a cycle run: one before anything ran, one after the warm-up and after each cycle. */
export interface CycleRun {
  /** Before the first cycle. */
  before: Sample;
  /** After the warm-up, then after each measured cycle. */
  samples: Sample[];
  /** Cycles that failed (each one also stops the run). */
  failures: string[];
  /** Wall time of the measured cycles, ms. */
  wallMs: number;
}

/** What a cycle run needs. */
export interface CycleOptions {
  /** Measured cycles. */
  cycles: number;
  /** Cycles run first and not measured. */
  warmup: number;
  /**
   * The warm-up also lasts until this many ms after the process began: an idle Deno
   * opens a thread and two fds of its own about half a second after it starts.
   */
  warmupUntilMs?: number;
  /** Called after every 50 measured cycles. */
  progress?: (done: number) => void;
}

/** create + start `true` + wait + destroy through the library, in this process. */
export function libraryCycles(space: SoakSpace, options: CycleOptions): Promise<CycleRun> {
  const factory = createFactory({ root: space.libraryRoot });
  return runCycles(space, options, async (n) => {
    const id = `${space.runId}-lib-${n}`;
    const container = await factory.create(id, soakConfig(space, id, ["true"]));
    try {
      const proc = await container.start({ stdin: "null", stdout: "null", stderr: "null" });
      const status = await proc.status;
      if (status.code !== 0) throw new Error(`${id}: true exited with ${JSON.stringify(status)}`);
    } finally {
      await container.destroy();
    }
  });
}

/** `cell --root R run --bundle B ID` of `true`, a fresh CLI process each time. */
export function cliCycles(space: SoakSpace, options: CycleOptions): Promise<CycleRun> {
  return runCycles(space, options, async (n) => {
    const id = `${space.runId}-cli-${n}`;
    const bundle = writeBundle(space, id, ["true"]);
    try {
      const [program, ...args] = cellCommand();
      const out = await new Deno.Command(program, {
        args: [...args, "--root", space.cliRoot, "run", "--bundle", bundle, id],
        stdin: "null",
        stdout: "null",
        stderr: "piped",
        signal: AbortSignal.timeout(30_000),
      }).output();
      if (out.code !== 0) {
        throw new Error(
          `${id}: cell run exited ${out.code}: ${new TextDecoder().decode(out.stderr)}`,
        );
      }
    } finally {
      removeBundle(space, id);
    }
  });
}

async function runCycles(
  space: SoakSpace,
  options: CycleOptions,
  cycle: (n: number) => Promise<void>,
): Promise<CycleRun> {
  const before = sample(space);
  const failures: string[] = [];
  const samples: Sample[] = [];
  let n = 0;
  const step = async (): Promise<boolean> => {
    try {
      await cycle(n++);
      return true;
    } catch (e) {
      failures.push(e instanceof Error ? e.message : String(e));
      return false;
    }
  };
  for (let i = 0; i < options.warmup || performance.now() < (options.warmupUntilMs ?? 0); i++) {
    if (!await step()) return end(0);
  }
  samples.push(sample(space));
  const t0 = performance.now();
  for (let i = 0; i < options.cycles; i++) {
    if (!await step()) break;
    samples.push(sample(space));
    if ((i + 1) % 50 === 0) options.progress?.(i + 1);
  }
  return end(performance.now() - t0);

  function end(wallMs: number): CycleRun {
    return { before, samples, failures, wallMs };
  }
}
