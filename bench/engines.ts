/**
 * Engines timed with each runtime, interleaved in one run: `podman run --rm` of `true`, and a
 * whole crictl pod life on containerd's CRI (run a pod, create and start a container that
 * runs `true`, wait for its exit, stop and remove the pod). cell is timed through its front
 * door (with its resident planner, what the install puts on PATH) and in-process
 * (`lib/cell/cell-deno`), beside runc and crun. Needs `tools/setup.sh --with-engines`.
 *
 * @module
 */

import { BUSYBOX_IMAGE, crictlPath, startCri } from "../tests/support/cri.ts";
import {
  removeEmptyCgroups,
  requirePrograms,
  sh,
  unmountBelow,
  workspace,
  writePodmanConfig,
} from "../tests/support/engines.ts";

/** The cgroup parent of the bench's pods (removed after). */
const POD_PARENT = "cell-bench-cri";
import { summarize } from "./peers.ts";

/** The runtimes of one engine's timing: name → the binary the engine calls. */
type Runtimes = Record<string, string>;

/** Medians (ms) of each runtime, by name. */
export type EngineTimes = Record<string, number[]>;

function peersAnd(prefix: string): Runtimes {
  return {
    cell: `${prefix}/bin/cell`,
    "cell in-process": `${prefix}/lib/cell/cell-deno`,
    runc: "/usr/sbin/runc",
    crun: "/usr/bin/crun",
  };
}

/** `podman run --rm IMAGE true` with each runtime, `runs` interleaved rounds after 2 warm ones. */
export async function timePodman(runs: number): Promise<EngineTimes> {
  requirePrograms(["podman", "conmon"]);
  const { dir, rootfsTar } = await workspace();
  const runtimes = peersAnd(`${dir}/prefix`);
  // podman's runtime names have no spaces.
  const env = writePodmanConfig(
    dir,
    Object.fromEntries(Object.entries(runtimes).map(([n, bin]) => [n.replace(" ", "-"), bin])),
  );
  const image = "localhost/cell-bench-busybox";
  const times: EngineTimes = Object.fromEntries(Object.keys(runtimes).map((n) => [n, []]));
  try {
    const imported = await sh("podman", ["import", "-q", rootfsTar, image], env);
    if (imported.code !== 0) throw new Error(`podman import: ${imported.stderr}`);
    for (let round = 0; round < runs + 2; round++) {
      for (const name of Object.keys(runtimes)) {
        const start = performance.now();
        const out = await sh("podman", [
          "--runtime",
          name.replace(" ", "-"),
          "run",
          "--rm",
          image,
          "true",
        ], env);
        const ms = performance.now() - start;
        if (out.code !== 0) throw new Error(`podman run with ${name}: ${out.stderr}`);
        if (round >= 2) times[name].push(ms);
      }
    }
  } finally {
    await sh("podman", ["rm", "-a", "-f", "-t", "0"], env);
    await sh("podman", ["rmi", "-a", "-f"], env);
    unmountBelow(dir);
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    removeEmptyCgroups("libpod_parent");
  }
  return times;
}

/** A crictl pod life with each runtime, `runs` interleaved rounds after one warm one. */
export async function timePodLife(runs: number): Promise<EngineTimes> {
  requirePrograms(["containerd", "ctr", "containerd-shim-runc-v2", "podman"]);
  crictlPath();
  // Handlers: this install's door and in-process script, runc and crun (report names first).
  const handlers: Record<string, string> = {
    cell: "celldoor",
    "cell in-process": "cellinproc",
    runc: "runc",
    crun: "crun",
  };
  const cri = await startCri({
    celldoor: "door",
    cellinproc: "in-process",
    runc: "/usr/sbin/runc",
    crun: "/usr/bin/crun",
  });
  const times: EngineTimes = Object.fromEntries(Object.keys(handlers).map((n) => [n, []]));
  const ok = (out: { code: number; stdout: string; stderr: string }, what: string) => {
    if (out.code !== 0) throw new Error(`crictl ${what}: ${out.stderr}`);
    return out.stdout.trim();
  };
  try {
    for (let round = 0; round < runs + 1; round++) {
      for (const [name, handler] of Object.entries(handlers)) {
        const pod = cri.file(`pod-${name}-${round}.json`, {
          metadata: {
            name: `bench-${name}-${round}`,
            namespace: "cell-bench",
            uid: `u${round}`,
            attempt: 0,
          },
          linux: { cgroup_parent: `/${POD_PARENT}` },
        });
        const container = cri.file(`c-${name}-${round}.json`, {
          metadata: { name: "true" },
          image: { image: BUSYBOX_IMAGE },
          command: ["true"],
        });
        const start = performance.now();
        const id = ok(await cri.crictl(["runp", "--runtime", handler, pod]), "runp");
        const c = ok(await cri.crictl(["create", id, container, pod]), "create");
        ok(await cri.crictl(["start", c]), "start");
        for (let i = 0; i < 2000; i++) {
          const state = JSON.parse(ok(await cri.crictl(["inspect", c]), "inspect")).status.state;
          if (state === "CONTAINER_EXITED") break;
          await new Promise((r) => setTimeout(r, 5));
        }
        ok(await cri.crictl(["stopp", id]), "stopp");
        ok(await cri.crictl(["rmp", id]), "rmp");
        const ms = performance.now() - start;
        if (round >= 1) times[name].push(ms);
      }
    }
  } finally {
    await cri.teardown();
    removeEmptyCgroups(POD_PARENT);
  }
  return times;
}

/** Prints one engine's medians and cell's ratios to runc and crun. */
export function reportEngine(what: string, runs: number, times: EngineTimes): void {
  console.log(`\n${what}, ${runs} interleaved rounds; milliseconds\n`);
  console.log("runtime                     median     p10     p90");
  for (const [name, all] of Object.entries(times)) {
    const s = summarize(all);
    const label = name === "cell" ? "cell (door)" : name;
    console.log(
      `${label.padEnd(26)}${s.median.toFixed(2).padStart(7)} ${s.p10.toFixed(2).padStart(7)} ${
        s.p90.toFixed(2).padStart(7)
      }`,
    );
  }
  const median = (n: string) => summarize(times[n]).median;
  const door = median("cell");
  console.log(
    `\ncell (door) / runc = ${(door / median("runc")).toFixed(2)}x, / crun = ${
      (door / median("crun")).toFixed(2)
    }x   (goal: at most 1x crun) ${door <= median("crun") ? "goal met" : "goal NOT met"}`,
  );
}
