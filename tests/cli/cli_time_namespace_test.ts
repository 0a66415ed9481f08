/**
 * The CLI with a time namespace: a bundle with `linux.timeOffsets` through `run` (the
 * library's one-call start) and through create/exec/start (the exec fifo path, where the
 * init outlives the call), and `features` naming the namespace.
 */

import assert from "node:assert/strict";
import { bundle, cell, stateRoot, uid } from "../support/cli.ts";
import { exists, until } from "../support/fixture.ts";

const DAY = 86400;

/** The host's CLOCK_BOOTTIME in seconds. */
function hostUptime(): number {
  return Number(Deno.readTextFileSync("/proc/uptime").split(" ")[0]);
}

/** A bundle running `args` in a new time namespace whose boottime is `days` ahead. */
function timeBundle(args: string[], days: number): Promise<string> {
  return bundle(args, (s) => {
    s.ociVersion = "1.3.0";
    s.linux!.namespaces!.push({ type: "time" });
    s.linux!.timeOffsets = { boottime: { secs: days * DAY, nanosecs: 0 } };
  });
}

/** Asserts the uptime printed inside is the host's (before..after) plus `days`. */
function assertAhead(printed: string, before: number, after: number, days: number): void {
  const inside = Number(printed.trim().split(/\s+/)[0]) - days * DAY;
  assert.ok(
    inside >= before - 2 && inside <= after + 2,
    `uptime inside ${printed.trim()} is not the host's (${before}..${after}) + ${days} days`,
  );
}

Deno.test("cli: run a bundle with a time namespace; its /proc/uptime is days ahead", async () => {
  const root = await stateRoot();
  const dir = await timeBundle(["cat", "/proc/uptime"], 4);
  const before = hostUptime();
  const r = await cell(root, ["run", "--bundle", dir, uid("tns-run")]);
  const after = hostUptime();
  assert.equal(r.code, 0, r.stderr);
  assertAhead(r.stdout, before, after, 4);
});

Deno.test("cli: create, exec and start with a time namespace; features names it", async () => {
  const root = await stateRoot();
  const id = uid("tns-box");
  const dir = await timeBundle(["sleep", "60"], 6);
  const pidFile = `${dir}/pid`;
  const created = await cell(root, ["create", "--bundle", dir, "--pid-file", pidFile, id], {
    detached: true,
  });
  assert.equal(created.code, 0);
  const pid = Number(Deno.readTextFileSync(pidFile));
  assert.match(Deno.readTextFileSync(`/proc/${pid}/timens_offsets`), /^boottime\s+518400\s+0$/m);
  const before = hostUptime();
  const exec = await cell(root, ["exec", id, "cat", "/proc/uptime"]);
  const after = hostUptime();
  assert.equal(exec.code, 0, exec.stderr);
  assertAhead(exec.stdout, before, after, 6);
  assert.equal((await cell(root, ["start", id], { detached: true })).code, 0);
  // start returns once the init has its go; the exec follows.
  await until("the init to exec sleep", () => {
    return Deno.readTextFileSync(`/proc/${pid}/cmdline`).startsWith("sleep");
  });
  assert.equal((await cell(root, ["kill", id, "KILL"])).code, 0);
  for (let i = 0; i < 500 && exists(`/proc/${pid}`); i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal((await cell(root, ["delete", id])).code, 0);
  assert.equal(exists(`/proc/${pid}`), false, "the init is gone after delete");

  const features = JSON.parse((await cell(root, ["features"])).stdout);
  assert.ok(features.linux.namespaces.includes("time"), JSON.stringify(features.linux.namespaces));
});

Deno.test("cli: timeOffsets without a time namespace fails create with the field named", async () => {
  const root = await stateRoot();
  const dir = await bundle(["true"], (s) => {
    s.linux!.timeOffsets = { monotonic: { secs: 1, nanosecs: 0 } };
  });
  const r = await cell(root, ["create", "--bundle", dir, uid("tns-bad")]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /linux\.timeOffsets: requires a new time namespace/);
});
