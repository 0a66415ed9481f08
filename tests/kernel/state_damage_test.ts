/**
 * Damaged or missing state: a state.json that is empty, cut short, garbage or lacks a field;
 * an empty state directory; a state directory removed while the container runs; a failed
 * `run -d`. Each must read as one clear error naming the file, leave the other containers
 * usable, and be removable with everything it had (processes, cgroups, directory).
 * Also the messages: long values are cut, a corrupt state never reads as "undefined".
 */

import assert from "node:assert/strict";
import { ContainerError, createFactory, type Spec } from "../../mod.ts";
import {
  assertNothingLeft,
  busyboxConfig,
  cgroupDirsOf,
  exists,
  runIn,
  uniqueId,
} from "../support/fixture.ts";
import { bundle, cell, stateRoot, uid } from "../support/cli.ts";

/** Whether `pid` is a live (not zombie) process. */
function alive(pid: number): boolean {
  try {
    return !/\) [ZX] /.test(Deno.readTextFileSync(`/proc/${pid}/stat`));
  } catch {
    return false;
  }
}

const DAMAGES: Record<string, (text: string) => string> = {
  "empty": () => "",
  "cut short": (text) => text.slice(0, Math.floor(text.length / 2)),
  "garbage": () => "\u0000\u0001 not json {",
  "without its id": (text) => JSON.stringify({ ...JSON.parse(text), id: undefined }),
  "without its config": (text) => JSON.stringify({ ...JSON.parse(text), config: undefined }),
  "a JSON array": () => "[]",
};

Deno.test("a damaged state.json is a ContainerError naming the file; list shows the rest; delete --force removes all", async (t) => {
  const root = await stateRoot();
  const factory = createFactory({ root });
  const healthy = uid("healthy");
  const good = await factory.create(healthy, await busyboxConfig(["sleep", "100"]));
  await good.start({ stdin: "null" });
  try {
    for (const [damage, edit] of Object.entries(DAMAGES)) {
      await t.step(damage, async () => {
        const id = uid(`bad-${damage.replaceAll(" ", "-")}`);
        const box = await factory.create(id, await busyboxConfig(["sleep", "100"]));
        await box.start({ stdin: "null" });
        const [pid] = await box.processes();
        assert.ok(cgroupDirsOf(id).length > 0);
        const file = `${root}/${id}/state.json`;
        Deno.writeTextFileSync(file, edit(Deno.readTextFileSync(file)));

        const loaded = await factory.load(id).then(() => null, (e) => e);
        assert.ok(loaded instanceof ContainerError, `load: ${loaded}`);
        assert.equal(loaded.code, "SystemError");
        assert.equal(loaded.path, file);
        assert.match(loaded.message, /is unreadable/);
        assert.doesNotMatch(loaded.message, /undefined/);
        // The handle made before the damage says the same, it does not crash.
        const status = await box.status().then(() => null, (e) => e);
        assert.ok(status instanceof ContainerError && status.path === file, `status: ${status}`);

        const state = await cell(root, ["state", id]);
        assert.equal(state.code, 1);
        assert.equal(state.stderr.trim().split("\n").length, 1, `one line: ${state.stderr}`);
        assert.ok(state.stderr.includes(file), state.stderr);
        assert.doesNotMatch(state.stderr, /SyntaxError|TypeError|undefined/);

        const list = await cell(root, ["list"]);
        assert.equal(list.code, 0, list.stderr);
        const rows = list.stdout.trim().split("\n").slice(1).map((row) => row.split(/\s+/));
        assert.deepEqual(rows.find((r) => r[0] === healthy)?.[2], "running", list.stdout);
        assert.deepEqual(rows.find((r) => r[0] === id)?.[2], "unreadable", list.stdout);
        // Engines parse the JSON: it lists the containers whose state can be read.
        const json = await cell(root, ["list", "--format", "json"]);
        const listed = (JSON.parse(json.stdout) as { id: string }[]).map((c) => c.id);
        assert.ok(listed.includes(healthy) && !listed.includes(id), json.stdout);
        assert.ok(list.stderr.includes(file), `list warns naming the file: ${list.stderr}`);

        const removed = await cell(root, ["delete", "--force", id]);
        assert.equal(removed.code, 0, removed.stderr);
        assertNothingLeft(factory, id, [pid]);
        assert.equal(await good.status(), "running", "the healthy container is untouched");
      });
    }
    await t.step("Factory.destroy(id) removes a damaged one from the library", async () => {
      const id = uid("bad-lib");
      const box = await factory.create(id, await busyboxConfig(["sleep", "100"]));
      await box.start({ stdin: "null" });
      const [pid] = await box.processes();
      Deno.writeTextFileSync(`${root}/${id}/state.json`, "{");
      await factory.destroy(id);
      assertNothingLeft(factory, id, [pid]);
    });
  } finally {
    await good.destroy();
  }
  assertNothingLeft(factory, healthy);
});

Deno.test("an empty state directory: delete --force removes it, create takes the id over", async () => {
  const root = await stateRoot();
  const id = uid("emptydir");
  Deno.mkdirSync(`${root}/${id}`);
  const state = await cell(root, ["state", id]);
  assert.equal(state.code, 1);
  assert.match(state.stderr, /does not exist/);
  const removed = await cell(root, ["delete", "--force", id]);
  assert.equal(removed.code, 0, removed.stderr);
  assert.equal(exists(`${root}/${id}`), false, "the empty directory is gone");

  Deno.mkdirSync(`${root}/${id}`);
  const dir = await bundle(["sleep", "100"]);
  const created = await cell(root, ["create", "--bundle", dir, id], { detached: true });
  assert.equal(created.code, 0, "create takes over an empty directory");
  const after = await cell(root, ["state", id]);
  assert.equal(JSON.parse(after.stdout).status, "created");
  assert.equal((await cell(root, ["delete", "--force", id])).code, 0);
  assert.equal(exists(`${root}/${id}`), false);
  assert.deepEqual(cgroupDirsOf(id), []);
});

Deno.test("a failed run -d leaves no container behind", async (t) => {
  const root = await stateRoot();
  const failures: Record<string, [string[], (spec: Spec) => void, string[]]> = {
    "a missing program": [["/no/such/program"], () => {}, []],
    "a missing cwd": [["true"], (spec) => spec.process!.cwd = "/no/such/dir", []],
    "a pid file it cannot write": [["sleep", "100"], () => {}, ["--pid-file", "/no/such/dir/pid"]],
  };
  for (const [why, [argv, edit, flags]] of Object.entries(failures)) {
    await t.step(why, async () => {
      const id = uid(`runfail-${why.replaceAll(" ", "-")}`);
      const dir = await bundle(argv, edit);
      const run = await cell(root, ["run", "-d", ...flags, "--bundle", dir, id], {
        detached: true,
      });
      assert.notEqual(run.code, 0);
      const state = await cell(root, ["state", id]);
      assert.equal(state.code, 1);
      assert.match(state.stderr, /does not exist/);
      assert.equal(exists(`${root}/${id}`), false);
      assert.deepEqual(cgroupDirsOf(id), []);
    });
  }
});

Deno.test("a state directory removed while the container runs: destroy() from the handle still removes it", async () => {
  const root = await stateRoot();
  const factory = createFactory({ root });
  const id = uniqueId("lostdir");
  const box = await factory.create(id, await busyboxConfig(["sleep", "100"]));
  await box.start({ stdin: "null" });
  const [pid] = await box.processes();
  Deno.removeSync(`${root}/${id}`, { recursive: true });
  assert.ok(alive(pid));
  await box.destroy();
  assertNothingLeft(factory, id, [pid]);
});

Deno.test("a state directory removed while the container runs: delete --force finds it by its cgroups", async () => {
  const root = await stateRoot();
  const id = uid("lostdir-cli");
  const dir = await bundle(["sleep", "100"]);
  assert.equal((await cell(root, ["run", "-d", "--bundle", dir, id], { detached: true })).code, 0);
  const pid = JSON.parse((await cell(root, ["state", id])).stdout).pid as number;
  assert.ok(alive(pid));
  Deno.removeSync(`${root}/${id}`, { recursive: true });
  const removed = await cell(root, ["delete", "--force", id]);
  assert.equal(removed.code, 0, removed.stderr);
  assertNothingLeft(createFactory({ root }), id, [pid]);
});

Deno.test("messages cut long values: a 100 KB sysctl key is not echoed whole", async () => {
  const factory = createFactory({ root: await stateRoot() });
  const key = "k".repeat(100_000);
  const error = await factory.create(
    uniqueId("long"),
    await busyboxConfig(["true"], (spec) => {
      spec.linux!.sysctl = { [key]: "1" };
    }),
  ).then(() => null, (e) => e);
  assert.ok(error instanceof ContainerError && error.code === "ConfigInvalid", `${error}`);
  assert.ok(error.message.length < 1000, `message of ${error.message.length} characters`);
  assert.match(error.message, /… \(1000\d\d characters\)/, "says how long it was");
});

Deno.test("masked paths are masked when the config mounts proc elsewhere than /proc", async () => {
  const factory = createFactory({ root: await stateRoot() });
  const id = uniqueId("altproc");
  const spec = await busyboxConfig(
    ["sh", "-c", "ls /sys/firmware | wc -l; ls /altproc/self/"],
    (s) => {
      for (const m of s.mounts ?? []) if (m.type === "proc") m.destination = "/altproc";
      s.linux!.maskedPaths = ["/sys/firmware"];
    },
  );
  await using box = await factory.create(id, spec);
  const out = await runIn(box);
  assert.equal(out.code, 0, out.stderr);
  const [count] = out.stdout.split("\n");
  assert.equal(count.trim(), "0", "/sys/firmware is masked (empty)");
  assert.doesNotMatch(out.stderr, /cannot mask/);
});
