/**
 * `deno task soak`: does cell leak in steady use, hold many containers at once, and leave
 * nothing behind when its process is killed at any point? Library cycles and CLI cycles
 * with the growth per cycle of every counter, a burst of containers started at once, and
 * SIGKILL at every step followed by a cleanup from a fresh process. Prints the figures and
 * exits 1 when anything grew, failed or was left behind.
 *
 * usage: deno task soak [--short] [--json FILE] [--cycles N] [--cli-cycles N] [--burst N]
 *                       [--library-kills N] [--cli-kills N] [--only library,cli,burst,kills]
 *
 * @module
 */

import { parseArgs } from "node:util";
import { burst, type BurstResult } from "./burst.ts";
import { cliCycles, libraryCycles } from "./cycles.ts";
import { killCampaign, type KillOutcome } from "./kills.ts";
import { checkLimits } from "./limits.ts";
import { burstText, cycleTable, killTable } from "./report.ts";
import { makeSpace } from "./setup.ts";
import { hierarchiesWithoutCell, sweep } from "./sweep.ts";
import {
  CLI_COUNTERS,
  findings,
  judgeCycles,
  LIBRARY_COUNTERS,
  type SoakResults,
} from "./verdict.ts";

const PARTS = ["library", "cli", "burst", "kills"] as const;

function options() {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      short: { type: "boolean", default: false },
      json: { type: "string" },
      cycles: { type: "string" },
      "cli-cycles": { type: "string" },
      burst: { type: "string" },
      "library-kills": { type: "string" },
      "cli-kills": { type: "string" },
      only: { type: "string" },
    },
  });
  const short = values.short ?? false;
  const num = (v: string | undefined, full: number, brief: number) =>
    v === undefined ? (short ? brief : full) : Number(v);
  return {
    short,
    json: values.json,
    cycles: num(values.cycles, 1000, 50),
    cliCycles: num(values["cli-cycles"], 200, 20),
    burst: num(values.burst, 500, 50),
    libraryKills: num(values["library-kills"], 20, 1),
    cliKills: num(values["cli-kills"], 12, 1),
    parts: new Set(values.only ? values.only.split(",") : PARTS),
  };
}

function log(text: string): void {
  console.log(text);
}

/** Progress on a terminal only (a log or a test's pipe gets the results alone). */
function progress(text: string): void {
  if (Deno.stderr.isTerminal()) Deno.stderr.writeSync(new TextEncoder().encode(`  ${text}\r`));
}

async function main(): Promise<number> {
  if (Deno.uid() !== 0) throw new Error("the soak makes real containers: run it as root");
  const opts = options();
  if (!(globalThis as { gc?: unknown }).gc) {
    log("note: run with --v8-flags=--expose-gc (as `deno task soak` does) for a steady heap");
  }
  const kernel = Deno.osRelease();
  const mem = (Deno.systemMemoryInfo().total / 2 ** 30).toFixed(1);
  log(
    `cell soak (${opts.short ? "short" : "full"}), ${new Date().toISOString().slice(0, 10)}, ` +
      `Linux ${kernel}, ${navigator.hardwareConcurrency} cores, ${mem} GiB`,
  );
  const noCellBefore = hierarchiesWithoutCell();
  const space = await makeSpace();
  const results: SoakResults = {};
  let limitsText = "";
  try {
    if (opts.parts.has("library")) {
      const warmup = opts.short ? 20 : 50;
      const run = await libraryCycles(space, {
        cycles: opts.cycles,
        warmup,
        warmupUntilMs: 1500,
        progress: (n) => progress(`library ${n}`),
      });
      results.library = { run, counters: judgeCycles(run, LIBRARY_COUNTERS, opts.short) };
      log(
        `\n${
          cycleTable(
            `library cycles: ${opts.cycles} (create + start \`true\` + wait + destroy) after ${warmup} ` +
              `warm-up, ${
                (run.wallMs / opts.cycles).toFixed(1)
              } ms each with sampling; slope over the second half`,
            results.library.counters,
          )
        }`,
      );
    }
    if (opts.parts.has("cli")) {
      const run = await cliCycles(space, {
        cycles: opts.cliCycles,
        warmup: 3,
        progress: (n) => progress(`cli ${n}`),
      });
      results.cli = { run, counters: judgeCycles(run, CLI_COUNTERS, opts.short) };
      log(
        `\n${
          cycleTable(
            `CLI cycles: ${opts.cliCycles} \`cell run\` of \`true\`, a fresh process each, after 3 warm-up, ` +
              `${(run.wallMs / opts.cliCycles).toFixed(0)} ms each`,
            results.cli.counters,
          )
        }`,
      );
    }
    if (opts.parts.has("burst")) {
      // Each running container holds a pidfd here; starting needs a few more for a moment.
      const limits = await checkLimits(opts.burst * 4 + 256);
      const b: BurstResult = await burst(space, opts.burst);
      results.burst = b;
      limitsText = burstText(b, limits);
      log(`\n${limitsText}`);
    }
    if (opts.parts.has("kills")) {
      let n = 0;
      const kills: KillOutcome[] = await killCampaign(space, {
        libraryPerStep: opts.libraryKills,
        cliPerStep: opts.cliKills,
        progress: () => progress(`kill ${++n}`),
      });
      results.kills = kills;
      log(`\n${killTable(kills)}`);
    }
  } finally {
    results.sweep = await sweep(space, noCellBefore);
    const s = results.sweep;
    log(
      `\nsweep after the run: killed ${s.processes} processes, removed ${s.cgroups} cgroups, ` +
        `detached ${s.mounts} mounts` +
        (s.problems.length ? `; problems: ${s.problems.join("; ")}` : ""),
    );
  }
  const found = findings(results);
  log(
    found.length
      ? `\nFINDINGS (${found.length}):\n${found.map((f) => `- ${f}`).join("\n")}`
      : "\nno growth, no failure, nothing left",
  );
  if (opts.json) {
    await Deno.writeTextFile(
      opts.json,
      JSON.stringify({ short: opts.short, results, findings: found }, replacer, 2),
    );
  }
  return found.length ? 1 : 0;
}

/** JSON has no Infinity: the calibration kills (no kill during the step) say "none". */
function replacer(_key: string, value: unknown): unknown {
  return value === Infinity ? "none" : value;
}

Deno.exit(await main());
