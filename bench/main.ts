/**
 * `deno task bench`: `true` in a busybox container with pid, mount, uts, ipc, network
 * and cgroup namespaces, run by cell's library, `cell run` (the installed script engines
 * call, and `deno run cli.ts`), `runc run` and `crun run` on the same bundle, interleaved
 * round by round, printed side by side as ratios; then `exec` latency of the CLIs, and
 * operations on a running container.
 *
 * usage: sudo deno task bench [--runs N]
 *
 * @module
 */

import { join } from "node:path";
import { parseArgs } from "node:util";
import { createFactory } from "../mod.ts";
import { bundle } from "../tests/support/rootfs.ts";
import { type CellTiming, timeCell } from "./cell_run.ts";
import {
  cellCommand,
  installCell,
  startPlanner,
  timeEmptyDeno,
  timeExecs,
  timeRun,
} from "./cli.ts";
import { reportEngine, timePodLife, timePodman } from "./engines.ts";
import { type OpsTiming, timeCellOps, timeRuncOps } from "./ops.ts";
import { peerBundleConfig, type PeerRuntime, preparePeers, summarize, timePeer } from "./peers.ts";

const GOAL_VS_CRUN = 0.5;

function fmt(ms: number): string {
  return ms.toFixed(2).padStart(7);
}

async function main(): Promise<void> {
  const { values } = parseArgs({ args: Deno.args, options: { runs: { type: "string" } } });
  const runs = Number(values.runs ?? 50);
  if (Deno.uid() !== 0) throw new Error("the bench makes real containers: run it as root");
  const restoreHost = await preparePeers();
  const dir = await Deno.makeTempDir({ prefix: "cell-bench-" });
  // Every runtime keeps its state on a tmpfs, as /run is on a distribution.
  await mountTmpfs(dir);
  const factory = createFactory({ root: join(dir, "state") });
  try {
    const bundleDir = join(dir, "bundle");
    await bundle(bundleDir, peerBundleConfig("rootfs", ["true"]));
    // The same with a memory limit: the child that shares our memory is kept out of reach
    // of the cgroup's OOM killer until it execs (docs/architecture.md), and that must not
    // cost the start its speed.
    const limitedDir = join(dir, "bundle-limited");
    await bundle(limitedDir, withMemoryLimit(peerBundleConfig("rootfs", ["true"])));
    const peers: PeerRuntime[] = ["runc", "crun"];
    // Warm up page caches and each runtime once.
    for (let i = 0; i < 3; i++) {
      await timeCell(factory, bundleDir);
      await timeCell(factory, limitedDir);
    }
    for (const p of peers) await timePeer(p, bundleDir, 2, dir);

    // What engines call: the front door `deno task install` writes, served by its resident
    // planner; and the in-process form it falls back to (the bundled CLI, warm code cache).
    const installed = await installCell(join(dir, "install"));
    const doorState = join(dir, "door-state");
    const cliState = join(dir, "cli-state");
    const srcState = join(dir, "src-state");
    await startPlanner(installed.door, doorState);
    await timeRun(installed.door, doorState, bundleDir, "warm");
    await timeRun(installed.inProcess, cliState, bundleDir, "warm");
    await timeRun(cellCommand(), srcState, bundleDir, "warm");
    const cell: CellTiming[] = [];
    const limited: CellTiming[] = [];
    const door: number[] = [];
    const cli: number[] = [];
    const src: number[] = [];
    const empty: number[] = [];
    const peer: Record<PeerRuntime, number[]> = { runc: [], crun: [] };
    for (let round = 0; round < runs; round++) {
      cell.push(await timeCell(factory, bundleDir));
      limited.push(await timeCell(factory, limitedDir));
      door.push(await timeRun(installed.door, doorState, bundleDir, `door-${round}`));
      cli.push(await timeRun(installed.inProcess, cliState, bundleDir, `cli-${round}`));
      src.push(await timeRun(cellCommand(), srcState, bundleDir, `src-${round}`));
      empty.push(await timeEmptyDeno(dir));
      for (const p of peers) peer[p].push(...await timePeer(p, bundleDir, 1, dir));
    }
    report(runs, cell, { door, installed: cli, source: src, empty }, peer, limited);

    // Operations on a running container: the same bundle running a long sleep.
    await bundle(bundleDir, peerBundleConfig("rootfs", ["sleep", "3600"]));
    const execs: Record<string, number[]> = {};
    const states: Record<string, number[]> = {};
    const clis: [string, string[], string][] = [
      ["cell", installed.door, doorState],
      ["cell in-process", installed.inProcess, join(dir, "exec-cli")],
      ["cell source", cellCommand(), join(dir, "exec-src")],
      ["runc", ["runc"], join(dir, "exec-runc")],
      ["crun", ["crun"], join(dir, "exec-crun")],
    ];
    await startPlanner(installed.door, doorState); // it may have idled out meanwhile
    for (const [i, [name, cmd, root]] of clis.entries()) {
      const times = await timeExecs(cmd, root, bundleDir, `exec-${i}`, runs);
      execs[name] = times.exec;
      states[name] = times.state;
    }
    reportCli(runs, "exec", "`exec true` into a running container", execs);
    reportCli(runs, "state", "`state` of a running container", states);
    const cellOps = await timeCellOps(factory, bundleDir, runs);
    const runcOps = await timeRuncOps(bundleDir, dir, runs);
    reportOps(runs, cellOps, runcOps);
    await benchEngines();
  } finally {
    try {
      await unmountTmpfs(dir);
      await Deno.remove(dir, { recursive: true });
    } finally {
      await restoreHost();
    }
  }
}

/** Engines with each runtime (bench/engines.ts), when they are installed. */
async function benchEngines(): Promise<void> {
  const programs = ["podman", "conmon", "containerd", "ctr", "containerd-shim-runc-v2", "crictl"];
  const path = [...(Deno.env.get("PATH") ?? "").split(":"), "/usr/sbin", "/usr/local/bin"];
  const missing = programs.filter((p) => !path.some((d) => present(join(d, p))));
  if (missing.length > 0) {
    console.log(
      `
engines: not timed, ${missing.join(", ")} missing (tools/setup.sh --with-engines)`,
    );
    return;
  }
  const podmanRuns = 10;
  reportEngine("`podman run --rm` of `true`", podmanRuns, await timePodman(podmanRuns));
  const podRuns = 5;
  reportEngine(
    "a crictl pod life (runp, create + start of `true`, its exit, stopp, rmp)",
    podRuns,
    await timePodLife(podRuns),
  );
}

function present(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/**
 * Unmounts the bench's tmpfs. A resident planner's socket in it keeps it busy: removing the
 * socket ends the planner within a second (docs/planner.md), so the unmount is retried.
 */
async function unmountTmpfs(dir: string): Promise<void> {
  await Deno.remove(join(dir, "door-state", "planner.sock")).catch(() => {});
  let why = "";
  for (let tries = 0; tries < 50; tries++) {
    const out = await new Deno.Command("umount", { args: [dir] }).output();
    if (out.success) return;
    why = new TextDecoder().decode(out.stderr);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`umount ${dir}: ${why}`);
}

async function mountTmpfs(dir: string): Promise<void> {
  const out = await new Deno.Command("mount", {
    args: ["-t", "tmpfs", "-o", "mode=700", "tmpfs", dir],
  })
    .output();
  if (!out.success) {
    throw new Error(`mount tmpfs on ${dir}: ${new TextDecoder().decode(out.stderr)}`);
  }
}

function reportOps(runs: number, cell: OpsTiming, runc: OpsTiming): void {
  console.log(`\noperations on a running container (sleep), ${runs} each; milliseconds\n`);
  console.log("operation                   cell    runc   cell/runc");
  const row = (name: string, a: number, b: number) =>
    console.log(`${name.padEnd(24)}${fmt(a)} ${fmt(b)}   ${(a / b).toFixed(3)}x`);
  row("pause + resume", cell.pauseResume.median, runc.pauseResume.median);
  row("stats (events --stats)", cell.stats.median, runc.stats.median);
}

/** One CLI verb's medians for every runtime, and cell's (installed) ratios to runc and crun. */
function reportCli(
  runs: number,
  verb: string,
  what: string,
  times: Record<string, number[]>,
): void {
  console.log(`\n${what}, ${runs} each (CLI); milliseconds\n`);
  console.log("runtime                     median     p10     p90");
  const labels: Record<string, string> = {
    cell: `cell ${verb} (door)`,
    "cell in-process": `cell ${verb} (in-process)`,
    "cell source": `cell ${verb} (deno cli.ts)`,
  };
  for (const [name, all] of Object.entries(times)) {
    const s = summarize(all);
    console.log(
      `${(labels[name] ?? `${name} ${verb}`).padEnd(26)}${fmt(s.median)} ${fmt(s.p10)} ${
        fmt(s.p90)
      }`,
    );
  }
  const runc = summarize(times.runc).median;
  const crun = summarize(times.crun).median;
  for (const [name, label] of [["cell", "door"], ["cell in-process", "in-process"]]) {
    const cell = summarize(times[name]).median;
    console.log(
      `\ncell ${verb} (${label}) / runc ${verb} = ${(cell / runc).toFixed(2)}x, / crun ${verb} = ${
        (cell / crun).toFixed(2)
      }x`,
    );
  }
  const door = summarize(times.cell).median / crun;
  console.log(
    `cell ${verb} (door) / crun: ${door <= 1 ? "goal met" : "goal NOT met"} (goal: at most 1x)`,
  );
}

/** The config with a 64 MiB memory limit (everything else as it was). */
function withMemoryLimit(config: object): object {
  const spec = config as { linux?: { resources?: Record<string, unknown> } };
  spec.linux!.resources = { ...spec.linux!.resources, memory: { limit: 64 * 1024 * 1024 } };
  return spec;
}

function report(
  runs: number,
  cell: CellTiming[],
  cliTimes: { door: number[]; installed: number[]; source: number[]; empty: number[] },
  peer: Record<PeerRuntime, number[]>,
  limited: CellTiming[],
): void {
  const total = summarize(cell.map((t) => t.total));
  const door = summarize(cliTimes.door);
  const cli = summarize(cliTimes.installed);
  const runc = summarize(peer.runc);
  const crun = summarize(peer.crun);
  console.log(
    `\`true\` in a busybox container (pid, mount, uts, ipc, net, cgroup namespaces), ` +
      `${runs} interleaved runs each, state on tmpfs; milliseconds\n`,
  );
  console.log(
    "cell run (door): bin/cell as `deno task install` writes it and engines call it, served by " +
      "its resident planner;\ncell run (in-process): lib/cell/cell-deno, the door's fallback (the " +
      "bundled CLI, warm code cache, no planner);\ncell run (deno cli.ts): `deno run cli.ts` " +
      "from source\n",
  );
  console.log("runtime                     median     p10     p90");
  const row = (name: string, s: ReturnType<typeof summarize>) =>
    console.log(`${name.padEnd(26)}${fmt(s.median)} ${fmt(s.p10)} ${fmt(s.p90)}`);
  row("cell (library)", total);
  const withLimit = summarize(limited.map((t) => t.total));
  row("  with a memory limit", withLimit);
  row("cell run (door)", door);
  row("cell run (in-process)", cli);
  row("cell run (deno cli.ts)", summarize(cliTimes.source));
  const floor = summarize(cliTimes.empty);
  row("deno run (empty file)", floor);
  row("runc run", runc);
  row("crun run", crun);
  const part = (k: keyof CellTiming) => summarize(cell.map((t) => t[k])).median.toFixed(2);
  console.log(
    `\ncell medians by step: create ${part("create")}, start ${part("start")}, ` +
      `exit ${part("exit")}, destroy ${part("destroy")}`,
  );
  console.log(
    `cell with a 64 MiB memory limit / without = ${(withLimit.median / total.median).toFixed(2)}x`,
  );
  const vsCrun = total.median / crun.median;
  const vsRunc = total.median / runc.median;
  console.log(`\ncell / crun = ${vsCrun.toFixed(2)}x   (goal: at most ${GOAL_VS_CRUN}x)`);
  console.log(`cell / runc = ${vsRunc.toFixed(2)}x`);
  console.log(vsCrun <= GOAL_VS_CRUN ? "goal met" : "goal NOT met");
  const doorVsCrun = door.median / crun.median;
  console.log(
    `\ncell run (door) / crun run = ${doorVsCrun.toFixed(2)}x   (goal: at most 1x); ` +
      `/ runc run = ${(door.median / runc.median).toFixed(2)}x`,
  );
  console.log(doorVsCrun <= 1 ? "goal met" : "goal NOT met");
  const cliVsRunc = cli.median / runc.median;
  console.log(
    `cell run (in-process) / runc run = ${cliVsRunc.toFixed(2)}x   (goal: at most 1.5x); ` +
      `/ crun run = ${(cli.median / crun.median).toFixed(2)}x`,
  );
  console.log(cliVsRunc <= 1.5 ? "goal met" : "goal NOT met");
  console.log(
    `deno run of an empty file / runc run = ${(floor.median / runc.median).toFixed(2)}x: ` +
      "no in-process call can be faster than that",
  );
}

if (import.meta.main) await main();
