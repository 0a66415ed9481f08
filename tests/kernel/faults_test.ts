/**
 * SIGKILL at every step: the library (a separate Deno process) and the CLI are killed at
 * each named step of create, start, exec and destroy (`CELL_FAULT`, src/fault_point.ts),
 * and after increasing delays; then another process must see a coherent status, and its
 * `destroy()` / `delete --force` must leave no process, cgroup (v1 and the hybrid host's
 * unified side), mount, fifo or state behind.
 */

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { ContainerError, createFactory, type Factory, type Spec, type Status } from "../../mod.ts";
import { FAULT_STEPS } from "../../src/fault_point.ts";
import type { NetworkOptions } from "../../mod.ts";
import { CELL_BRIDGE_ALIAS, listLinks } from "../../src/network/links.ts";
import { deleteLinkRequest } from "../../src/network/rtnetlink.ts";
import { NetlinkSocket } from "../../src/network/netlink_socket.ts";
import { busyboxConfig, cgroupDirsOf } from "../support/fixture.ts";
import { cellArgv } from "../support/cli.ts";
import { freeTestSubnet, hostHasLink, ip } from "../support/host_links.ts";

const DRIVER = fileURLToPath(new URL("../support/fault_driver.ts", import.meta.url));
const scratch: string[] = [];
globalThis.addEventListener("unload", () => {
  for (const dir of scratch) {
    try {
      Deno.removeSync(dir, { recursive: true });
    } catch { /* gone */ }
  }
});

let counter = 0;

/** One run's names: the marker is the container's sleep argument and part of its root. */
interface Run {
  marker: string;
  id: string;
  root: string;
  factory: Factory;
  config: Spec;
  configFile: string;
  bundle: string;
  /** A veth and a bridge cell makes, named after the marker (startNetwork). */
  network: NetworkOptions;
  /** A host veth pair the test makes, its first end moved in (startNetDevices). */
  netDevice: [string, string];
}

async function newRun(): Promise<Run> {
  const marker = `7${Deno.pid}${String(++counter).padStart(3, "0")}`;
  const root = await Deno.makeTempDir({ prefix: `cell-fault-${marker}-` });
  const bundle = await Deno.makeTempDir({ prefix: `cell-fault-bundle-${marker}-` });
  scratch.push(root, bundle);
  const config = await busyboxConfig(["sleep", marker]);
  const configFile = `${bundle}/config.json`;
  Deno.writeTextFileSync(configFile, JSON.stringify(config));
  const id = `fault-${marker}`;
  const tag = Number(marker).toString(36); // at most 7 characters
  const network: NetworkOptions = {
    interfaces: [{
      type: "veth",
      hostName: `vfh${tag}`,
      addresses: ["10.213.77.2/24"], // only inside the container's namespace
      bridge: { name: `vfb${tag}`, create: true },
    }],
  };
  return {
    marker,
    id,
    root,
    factory: createFactory({ root }),
    config,
    configFile,
    bundle,
    network,
    netDevice: [`vfd${tag}`, `vfe${tag}`],
  };
}

/**
 * For startNetDevices: the host veth pair, its end up with an address of 10.215.0.0/16; the
 * disposal removes whatever of it is left.
 */
function hostPair(run: Run): { octet: number } & Disposable {
  const [end, peer] = run.netDevice;
  ip("link", "add", end, "type", "veth", "peer", "name", peer);
  const octet = freeTestSubnet("10.215");
  ip("addr", "add", `10.215.${octet}.2/24`, "dev", end);
  ip("link", "set", end, "up");
  return {
    octet,
    [Symbol.dispose]: () => {
      for (const name of run.netDevice) {
        if (hostHasLink(name)) ip("link", "del", name);
      }
    },
  };
}

/**
 * After a start killed with the devices moved: the end is never lost under another name:
 * back on the host with its address (moved back while the paused init lived), or gone with
 * its peer (the init ended with its runtime, the namespace with it: the kernel's rule).
 */
async function assertDeviceBackOrGone(run: Run, octet: number, what: string): Promise<void> {
  const [end, peer] = run.netDevice;
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (hostHasLink(end)) {
      const shown = ip("-o", "addr", "show", "dev", end);
      assert.match(shown, new RegExp(`10\\.215\\.${octet}\\.2/24`), `${what}: back, addressed`);
      return;
    }
    if (!hostHasLink(peer)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`${what}: "${end}" neither back on the host nor gone with its peer in 10 s`);
}

/** Whatever a failed check left is destroyed all the same (a no-op after a passing one). */
function cleanup(run: Run): AsyncDisposable {
  return {
    [Symbol.asyncDispose]: async () => {
      await run.factory.destroy(run.id).catch(() => {});
    },
  };
}

/** Live (non-zombie) processes with the marker in their argv, other than us. */
function processesOf(run: Run): number[] {
  const found: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name) || Number(entry.name) === Deno.pid) continue;
    let argv: string[];
    let stat: string;
    try {
      argv = Deno.readTextFileSync(`/proc/${entry.name}/cmdline`).split("\0");
      stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
    } catch {
      continue;
    }
    if (/\) [ZX] /.test(stat)) continue;
    if (argv.some((a) => a === run.marker || a.includes(`cell-fault-${run.marker}-`))) {
      found.push(Number(entry.name));
    }
  }
  return found;
}

/** Everything a run may leave: processes, cgroups, mounts, state (and fifos in it). */
async function assertNothingLeft(run: Run, what: string): Promise<void> {
  // Killed processes may take a moment to be gone from /proc.
  for (let i = 0; i < 100 && processesOf(run).length > 0; i++) {
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.deepEqual(processesOf(run), [], `${what}: processes left`);
  assert.deepEqual(cgroupDirsOf(run.id), [], `${what}: cgroups left`);
  const entries = [...Deno.readDirSync(run.root)].map((e) => e.name);
  assert.deepEqual(entries, [], `${what}: state left in ${run.root}`);
  const mounts = Deno.readTextFileSync("/proc/self/mountinfo");
  assert.equal(mounts.includes(run.marker), false, `${what}: a mount left`);
  const names = run.network.interfaces.flatMap((n) =>
    n.type === "veth" ? [n.hostName, n.bridge!.name] : []
  );
  using host = NetlinkSocket.open();
  const links = listLinks(host).map((l) => l.name).filter((n) => names.includes(n));
  assert.deepEqual(links, [], `${what}: links left on the host`);
}

/** The status another process sees, or "gone" when there is no container. */
async function statusSeen(run: Run, expected: Status | "gone"): Promise<Status | "gone"> {
  // A released init is "created" until it execs, which a busy machine may delay past the
  // starter's death: wait (bounded) for the expected status before reporting what is seen.
  let seen: Status | "gone" = "gone";
  for (let i = 0; i < 100; i++) {
    seen = await currentStatus(run);
    if (seen === expected) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return seen;
}

async function currentStatus(run: Run): Promise<Status | "gone"> {
  try {
    return await (await run.factory.load(run.id)).status();
  } catch (e) {
    if (e instanceof ContainerError && e.code === "ContainerNotFound") return "gone";
    throw e;
  }
}

const quiet = { stdin: "null", stdout: "null", stderr: "null" } as const;

/** Prepares a container as an op needs it: made by this (surviving) process. */
async function prepare(run: Run, needs: "nothing" | "created" | "running"): Promise<void> {
  if (needs === "nothing") return;
  const container = await run.factory.create(run.id, run.config);
  if (needs === "created") await container.createInit(quiet);
  else await container.start(quiet);
}

/** Asserts a child ended by SIGKILL (it reached the step), saying what it printed if not. */
function assertKilled(
  out: { code: number; signal: Deno.Signal | null; stderr: string },
  what: string,
): void {
  assert.equal(
    out.signal,
    "SIGKILL",
    `${what}: not killed at its step (exit ${out.code}): ${out.stderr.slice(-2000)}`,
  );
}

interface Case {
  step: typeof FAULT_STEPS[number];
  /** What another process sees right after the kill. */
  seen: Status | "gone";
}

const LIBRARY: Record<string, { needs: "nothing" | "created" | "running"; cases: Case[] }> = {
  create: { needs: "nothing", cases: [{ step: "create:claimed", seen: "gone" }] },
  start: {
    needs: "nothing",
    cases: [
      { step: "start:intent", seen: "stopped" },
      { step: "start:cgroup", seen: "stopped" },
      { step: "start:spawned", seen: "stopped" },
      { step: "start:recorded", seen: "running" },
    ],
  },
  startNetDevices: { needs: "nothing", cases: [{ step: "start:netDevices", seen: "stopped" }] },
  startNetwork: {
    needs: "nothing",
    cases: [
      // Killed between the bridge's RTM_NEWLINK and the record of its ifindex: the bridge
      // is left (it cannot be told from someone else's of that name); the test removes it.
      { step: "start:bridgeMade", seen: "stopped" },
      { step: "start:bridgeUnmarked", seen: "stopped" },
      { step: "start:bridge", seen: "stopped" },
      { step: "start:veth", seen: "stopped" },
    ],
  },
  createInit: {
    needs: "nothing",
    cases: [
      { step: "createInit:fifo", seen: "created" },
      { step: "start:intent", seen: "stopped" },
      { step: "start:cgroup", seen: "stopped" },
      { step: "start:spawned", seen: "stopped" },
      { step: "start:recorded", seen: "created" },
    ],
  },
  startInit: { needs: "created", cases: [{ step: "startInit:released", seen: "running" }] },
  exec: { needs: "running", cases: [{ step: "exec:spawned", seen: "running" }] },
  destroy: {
    needs: "running",
    cases: [
      { step: "destroy:killed", seen: "stopped" },
      { step: "destroy:cgroups", seen: "stopped" },
      { step: "destroy:renamed", seen: "gone" },
    ],
  },
};

for (const [op, { needs, cases }] of Object.entries(LIBRARY)) {
  Deno.test(`library killed during ${op}: another process's destroy() leaves nothing`, async (t) => {
    for (const { step, seen } of cases) {
      await t.step(step, async () => {
        const run = await newRun();
        await using _cleanup = cleanup(run);
        await prepare(run, needs);
        using pair = op === "startNetDevices" ? hostPair(run) : undefined;
        const out = await new Deno.Command(Deno.execPath(), {
          args: [
            "run",
            "-A",
            "--no-lock",
            DRIVER,
            run.root,
            run.id,
            op,
            run.configFile,
            run.marker,
          ],
          env: {
            CELL_FAULT: step,
            CELL_TEST_NETWORK: JSON.stringify(run.network),
            CELL_TEST_NET_DEVICES: JSON.stringify({ [run.netDevice[0]]: { name: "eth0" } }),
          },
          stdin: "null",
          stdout: "null",
          stderr: "piped",
          signal: AbortSignal.timeout(30_000),
        }).output();
        const stderr = new TextDecoder().decode(out.stderr);
        assertKilled({ code: out.code, signal: out.signal, stderr }, `${op} at ${step}`);
        assert.equal(await statusSeen(run, seen), seen, `${op} at ${step}: status seen after`);
        await run.factory.destroy(run.id);
        if (pair) await assertDeviceBackOrGone(run, pair.octet, `${op} at ${step}`);
        if (step === "start:bridgeMade") removeLeakedBridge(run);
        await assertNothingLeft(run, `${op} at ${step}`);
      });
    }
  });
}

const CLI: Record<
  string,
  { argv: (run: Run) => string[]; needs: "nothing" | "created" | "running"; cases: Case[] }
> = {
  create: {
    argv: (run) => ["create", "--bundle", run.bundle, run.id],
    needs: "nothing",
    cases: LIBRARY.createInit.cases.concat([{ step: "create:claimed", seen: "gone" }]),
  },
  start: { argv: (run) => ["start", run.id], needs: "created", cases: LIBRARY.startInit.cases },
  run: {
    argv: (run) => ["run", "--bundle", run.bundle, run.id],
    needs: "nothing",
    cases: [{ step: "create:claimed", seen: "gone" }, ...LIBRARY.start.cases],
  },
  "run -d": {
    argv: (run) => ["run", "-d", "--bundle", run.bundle, run.id],
    needs: "nothing",
    cases: [{ step: "create:claimed", seen: "gone" }, ...LIBRARY.start.cases],
  },
  exec: {
    argv: (run) => ["exec", run.id, "sleep", run.marker],
    needs: "running",
    cases: LIBRARY.exec.cases,
  },
  delete: {
    argv: (run) => ["delete", "--force", run.id],
    needs: "running",
    cases: LIBRARY.destroy.cases,
  },
};

/**
 * Runs the CLI as an engine would, with the fault step set. Its stderr goes to a file (the
 * container's processes inherit the CLI's stdio, and a pipe would stay open while they
 * live); a run that is not killed says what it printed.
 */
async function cliOutput(
  run: Run,
  args: string[],
  env: Record<string, string> = {},
  signal = AbortSignal.timeout(30_000),
): Promise<{ code: number; signal: Deno.Signal | null; stderr: string }> {
  const errors = `${run.bundle}/stderr`;
  const out = await new Deno.Command("sh", {
    args: ["-c", 'exec "$0" "$@" 2>"$CELL_TEST_STDERR"', ...cellArgv(run.root), ...args],
    env: { ...env, CELL_TEST_STDERR: errors },
    stdin: "null",
    stdout: "null",
    stderr: "null",
    signal,
  }).output();
  return { code: out.code, signal: out.signal, stderr: Deno.readTextFileSync(errors) };
}

for (const [name, { argv, needs, cases }] of Object.entries(CLI)) {
  Deno.test(`cell ${name} killed: a fresh "cell delete --force" leaves nothing`, async (t) => {
    for (const { step, seen } of cases) {
      await t.step(step, async () => {
        const run = await newRun();
        await using _cleanup = cleanup(run);
        await prepare(run, needs);
        const out = await cliOutput(run, argv(run), { CELL_FAULT: step });
        assertKilled(out, `cell ${name} at ${step}`);
        assert.equal(
          await statusSeen(run, seen),
          seen,
          `cell ${name} at ${step}: status seen after`,
        );
        const removed = await cliOutput(run, ["delete", "--force", run.id]);
        assert.equal(removed.code, 0, removed.stderr);
        await assertNothingLeft(run, `cell ${name} at ${step}`);
      });
    }
  });
}

Deno.test("every fault step is exercised by a case above", () => {
  const used = new Set(
    [...Object.values(LIBRARY), ...Object.values(CLI)].flatMap((o) => o.cases.map((c) => c.step)),
  );
  assert.deepEqual(FAULT_STEPS.filter((s) => !used.has(s)), []);
});

Deno.test("cell run -d SIGKILLed after increasing delays: delete --force leaves nothing", async () => {
  // From before the CLI has loaded to after it is done: every delay lands somewhere else.
  for (let delay = 10; delay <= 160; delay += 10) {
    const run = await newRun();
    await using _cleanup = cleanup(run);
    const [program, ...prefix] = cellArgv(run.root);
    const child = new Deno.Command(program, {
      args: [...prefix, "run", "-d", "--bundle", run.bundle, run.id],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    const timer = setTimeout(() => {
      try {
        child.kill("SIGKILL");
      } catch { /* it ended first */ }
    }, delay);
    await child.status;
    clearTimeout(timer);
    await run.factory.destroy(run.id);
    await assertNothingLeft(run, `run -d killed after ${delay} ms`);
  }
});

/** The bridge a start killed at `start:bridgeMade` leaves behind: there, unmarked; removed. */
function removeLeakedBridge(run: Run): void {
  const bridges = run.network.interfaces.flatMap((n) =>
    n.type === "veth" && n.bridge ? [n.bridge.name] : []
  );
  assert.equal(bridges.length, 1);
  using host = NetlinkSocket.open();
  const bridge = listLinks(host).find((l) => l.name === bridges[0]);
  assert.ok(bridge, `the bridge "${bridges[0]}" made before its index was recorded is left`);
  assert.notEqual(bridge.alias, CELL_BRIDGE_ALIAS, "unmarked");
  host.mustRequest(deleteLinkRequest({ index: bridge.index }), "delete the leaked bridge");
}
