/**
 * The CLI behaves as runc's where runc's integration suite (tests/integration/*.bats)
 * looks: flag parsing, argument counts, help, version, spec, exec's terminal, codes and
 * sub-cgroups, kill 0, frozen cgroups, checkpoint's checks and --debug lines.
 */

import assert from "node:assert/strict";
import { v1Hierarchies } from "../../src/cgroups/v1.ts";
import { bundle, cell, emptyDir, stateRoot, uid } from "../support/cli.ts";
import { cgroupDirsOf, exists, until } from "../support/fixture.ts";

Deno.test("cli: flags after the id are read, extra arguments refused, help and version in runc's shape", async () => {
  const root = await stateRoot();
  const dir = await bundle(["sleep", "60"]);
  const id = uid("upd");
  assert.equal(
    (await cell(root, ["run", "-d", "--bundle", dir, id], { detached: true })).code,
    0,
  );
  // `update ID --pids-limit N` changes the limit (it was silently ignored once).
  assert.equal((await cell(root, ["update", id, "--pids-limit", "17"])).code, 0);
  const stats = JSON.parse((await cell(root, ["events", "--stats", id])).stdout);
  assert.equal(stats.data.pids.limit, 17);
  const extra = await cell(root, ["state", id, "more"]);
  assert.equal(extra.code, 1);
  assert.match(extra.stderr, /state\\?" requires exactly 1 argument\(s\)/);
  assert.equal((await cell(root, ["run", "--bundle", dir, uid("x"), "extra"])).code, 1);
  assert.equal((await cell(root, ["delete", "-f", id])).code, 0);

  const help = await cell(root, ["delete", "-h"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^NAME:\n {3}cell delete - .+\n\nUSAGE:\n {3}cell delete /);
  assert.match(help.stdout, /--force, -f/);
  assert.match((await cell(root, ["help", "kill"])).stdout, /^NAME:\n {3}cell kill - /);
  assert.match((await cell(root, ["--help"])).stdout, /^NAME:\n {3}cell - Open Container/);
  const unknown = await cell(root, ["foo", "-h"]);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /No help topic for 'foo'/);
  // Invoked as runc (a link named runc, through the install script's $0), it says runc.
  const asRunc = await cell(root, ["checkpoint", "-h"], { env: { CELL_ARGV0: "/usr/bin/runc" } });
  assert.match(asRunc.stdout, /^NAME:\n {3}runc checkpoint - /);
  const version = await cell(root, ["-v"], { env: { CELL_ARGV0: "/x/runc" } });
  assert.match(version.stdout, /^runc version \d+\.\d+\.\d+\ncommit: .+\nspec: \d+\.\d+\.\d+\n/);
});

Deno.test("cli: spec writes what runc spec writes: a terminal, ambient caps, runc's order", async () => {
  const root = await stateRoot();
  const dir = await emptyDir();
  assert.equal((await cell(root, ["spec", "--bundle", dir])).code, 0);
  const text = Deno.readTextFileSync(`${dir}/config.json`);
  const spec = JSON.parse(text);
  assert.deepEqual(Object.keys(spec), [
    "ociVersion",
    "process",
    "root",
    "hostname",
    "mounts",
    "linux",
  ]);
  assert.deepEqual(Object.keys(spec.linux), [
    "resources",
    "namespaces",
    "maskedPaths",
    "readonlyPaths",
  ]);
  assert.equal(spec.process.terminal, true);
  assert.deepEqual(spec.process.capabilities.ambient, spec.process.capabilities.bounding);
  assert.deepEqual(spec.root, { path: "rootfs", readonly: true });
  // A cgroup namespace only where runc adds one: on a cgroup v2 host.
  const v2 = !exists("/sys/fs/cgroup/memory") && exists("/sys/fs/cgroup/cgroup.controllers");
  const types = spec.linux.namespaces.map((n: { type: string }) => n.type);
  assert.deepEqual(types, ["pid", "network", "ipc", "uts", "mount", ...(v2 ? ["cgroup"] : [])]);
  assert.ok(text.startsWith('{\n\t"ociVersion"'), "tab-indented, as runc writes it");
  assert.equal((await cell(root, ["spec", "--bundle", dir, "extra"])).code, 1);
});

Deno.test("cli: exec takes its terminal from --tty only, and exits 255 when it cannot start", async () => {
  const root = await stateRoot();
  const dir = await bundle(["sleep", "60"], (s) => {
    s.process!.terminal = true;
  });
  const socket = `${dir}/console.sock`;
  const receiver = new Deno.Command("python3", {
    args: [new URL("../support/console_receiver.py", import.meta.url).pathname, socket],
    stdout: "null",
  }).spawn();
  try {
    await until("the console receiver to listen", () => exists(socket));
    const id = uid("tty");
    const run = await cell(root, ["run", "-d", "--console-socket", socket, "--bundle", dir, id], {
      detached: true,
    });
    assert.equal(run.code, 0);
    const plain = await cell(root, ["exec", id, "sh", "-c", "test -t 0 && echo tty || echo none"]);
    assert.equal(plain.code, 0, plain.stderr);
    assert.equal(plain.stdout, "none\n");
    assert.equal((await cell(root, ["exec", id, "sh", "-c", "exit 42"])).code, 42);
    for (
      const argv of [
        ["exec", id, "no-such-binary"],
        ["exec", "no_such_container", "true"],
        ["exec", "--pid-file", "/non-existent/directory", id, "true"],
        ["exec", id],
      ]
    ) {
      const r = await cell(root, argv);
      assert.equal(r.code, 255, `${argv.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, /exec failed: /);
    }
    assert.equal((await cell(root, ["exec"])).code, 1, "a usage error is 1, as runc's");
    // A process.json's consoleSize sizes the exec's own terminal (runc's tty.bats).
    const processFile = `${dir}/sized.json`;
    Deno.writeTextFileSync(
      processFile,
      JSON.stringify({
        terminal: true,
        consoleSize: { height: 10, width: 110 },
        args: ["stty", "size"],
        cwd: "/",
      }),
    );
    const sized = await cell(root, ["exec", "-t", "-p", processFile, id]);
    assert.equal(sized.code, 0, sized.stderr);
    assert.equal(sized.stdout.trim(), "10 110");
    assert.equal((await cell(root, ["delete", "-f", id])).code, 0);
  } finally {
    try {
      receiver.kill();
    } catch { /* it ended with the container's terminal */ }
    await receiver.status;
  }
});

Deno.test("cli: exec into a paused container: refused, or with --ignore-paused run once resumed", async () => {
  const root = await stateRoot();
  const id = uid("paused");
  const dir = await bundle(["sleep", "60"]);
  assert.equal((await cell(root, ["run", "-d", "--bundle", dir, id], { detached: true })).code, 0);
  assert.equal((await cell(root, ["pause", id])).code, 0);
  const refused = await cell(root, ["exec", id, "echo", "ok"]);
  assert.equal(refused.code, 255);
  assert.match(refused.stderr, /cannot exec in a paused container/);
  const waiting = cell(root, ["exec", "--ignore-paused", id, "echo", "ok"]);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal((await cell(root, ["resume", id])).code, 0);
  const ran = await waiting;
  assert.equal(ran.code, 0, ran.stderr);
  assert.equal(ran.stdout, "ok\n");
  assert.equal((await cell(root, ["delete", "-f", id])).code, 0);
});

Deno.test("cli: exec --cgroup joins an existing sub-cgroup, and refuses ones outside or missing", async () => {
  const root = await stateRoot();
  const id = uid("subcg");
  const leaf = `cell-clirunc-${Deno.pid}`;
  const dir = await bundle(["sleep", "60"], (s) => {
    s.linux!.cgroupsPath = `/${leaf}`;
  });
  assert.equal((await cell(root, ["run", "-d", "--bundle", dir, id], { detached: true })).code, 0);
  const dirs = cgroupDirsOf(leaf);
  assert.ok(dirs.length > 0, "the container's cgroup directories");
  try {
    const cases: [string[], RegExp][] = [
      [["--cgroup", ".."], /\.\. is not a sub cgroup path/],
      [["--cgroup", "nonexistent"], / adding pid .*\/nonexistent\/cgroup\.procs: no such file /],
      [["--cgroup", "whaaat:/"], /unknown controller whaaat/],
      [["--cgroup", "a:b:c"], /invalid --cgroup argument/],
    ];
    for (const [flags, message] of cases) {
      const r = await cell(root, ["exec", ...flags, id, "true"]);
      assert.equal(r.code, 255, flags.join(" "));
      assert.match(r.stderr, message);
    }
    for (const d of dirs) {
      Deno.mkdirSync(`${d}/sub`);
      // A new cpuset cgroup has no cpus or mems: nothing could join it.
      for (const file of ["cpuset.cpus", "cpuset.mems"]) {
        if (exists(`${d}/${file}`)) {
          Deno.writeTextFileSync(`${d}/sub/${file}`, Deno.readTextFileSync(`${d}/${file}`));
        }
      }
    }
    const joined = await cell(root, ["exec", "--cgroup", "sub", id, "cat", "/proc/self/cgroup"]);
    assert.equal(joined.code, 0, joined.stderr);
    // Seen from its cgroup namespace (rooted at the container's cgroup): every hierarchy's
    // line says /sub (on a hybrid host, the v2 line "0::" is not the container's).
    // Hierarchies the kernel has but nobody mounts (a v1 hierarchy left alive after its
    // umount) are listed too, at "/": only mounted ones hold the container.
    const mounted = new Set(v1Hierarchies().map((h) => h.controllers));
    const all = joined.stdout.trim().split("\n");
    const v1 = all.filter((l) => !l.startsWith("0::") && mounted.has(l.split(":")[1]));
    const lines = v1.length > 0 ? v1 : all;
    assert.ok(lines.every((l) => l.endsWith(":/sub")), joined.stdout);
  } finally {
    for (const d of dirs) {
      try {
        Deno.removeSync(`${d}/sub`);
      } catch { /* not made */ }
    }
    assert.equal((await cell(root, ["delete", "-f", id])).code, 0);
  }
});

Deno.test("cli: kill with signal 0 checks the container; a frozen cgroup is refused at once", async () => {
  const root = await stateRoot();
  const id = uid("k0");
  const dir = await bundle(["sleep", "60"]);
  assert.equal((await cell(root, ["run", "-d", "--bundle", dir, id], { detached: true })).code, 0);
  assert.equal((await cell(root, ["kill", id, "0"])).code, 0);
  assert.equal(JSON.parse((await cell(root, ["state", id])).stdout).status, "running");
  assert.equal((await cell(root, ["kill", id, "KILL"])).code, 0);
  await until(
    "the container to stop",
    async () => JSON.parse((await cell(root, ["state", id])).stdout).status === "stopped",
  );
  const stopped = await cell(root, ["kill", id, "0"]);
  assert.equal(stopped.code, 1);
  assert.match(stopped.stderr, /container not running/);
  assert.equal((await cell(root, ["kill", "--all", id, "0"])).code, 0);
  assert.equal((await cell(root, ["delete", id])).code, 0);

  // A pre-made, frozen cgroup: runc refuses it at once; cell once hung there.
  const leaf = `cell-clirunc-frozen-${Deno.pid}`;
  const v1 = exists("/sys/fs/cgroup/freezer");
  const freezer = v1 ? `/sys/fs/cgroup/freezer/${leaf}` : `/sys/fs/cgroup/${leaf}`;
  Deno.mkdirSync(freezer);
  try {
    Deno.writeTextFileSync(
      `${freezer}/${v1 ? "freezer.state" : "cgroup.freeze"}`,
      v1 ? "FROZEN" : "1",
    );
    const frozen = await bundle(["true"], (s) => {
      s.linux!.cgroupsPath = `/${leaf}`;
    });
    const r = await cell(root, ["run", "-d", "--bundle", frozen, uid("frz")], {
      timeoutMs: 20_000,
    });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /container's cgroup unexpectedly frozen/);
    assert.equal((await cell(root, ["list", "-q"])).stdout, "", "nothing is left");
  } finally {
    Deno.removeSync(freezer);
  }
});

Deno.test("cli: checkpoint checks its paths and the status before CRIU; --debug names the stages", async () => {
  const root = await stateRoot();
  const id = uid("cr");
  const dir = await bundle(["sleep", "60"]);
  const created = await cell(root, ["create", "--bundle", dir, id], { detached: true });
  assert.equal(created.code, 0);
  const early = await cell(root, ["checkpoint", "--image-path", `${dir}/img`, id]);
  assert.equal(early.code, 1);
  assert.match(early.stderr, /Container cannot be checkpointed in created state/);
  assert.equal((await cell(root, ["start", id], { detached: true })).code, 0);
  const absolute = await cell(root, [
    "checkpoint",
    "--parent-path",
    `${dir}/parent`,
    "--image-path",
    `${dir}/img`,
    id,
  ]);
  assert.equal(absolute.code, 1);
  assert.match(absolute.stderr, /--parent-path must be relative/);
  const missing = await cell(root, [
    "checkpoint",
    "--parent-path",
    "p",
    "--image-path",
    `${dir}/img`,
    id,
  ]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /invalid --parent-path/);
  const criu = await cell(root, [
    "--criu",
    "/nonexistent/criu",
    "checkpoint",
    "--image-path",
    `${dir}/img`,
    id,
  ]);
  assert.equal(criu.code, 1);
  assert.match(criu.stderr, /\/nonexistent\/criu/);
  // criu's optional arguments must be attached: a separate "soft" is a stray positional.
  const fake = `${dir}/fake-criu`;
  Deno.writeTextFileSync(fake, `#!/bin/sh\nprintf '%s\\n' "$@" > ${dir}/criu-args\nexit 1\n`, {
    mode: 0o755,
  });
  const faked = await cell(root, ["--criu", fake, "checkpoint", "--image-path", `${dir}/img`, id]);
  assert.equal(faked.code, 1);
  const criuArgs = Deno.readTextFileSync(`${dir}/criu-args`).trim().split("\n");
  assert.equal(criuArgs[0], "dump");
  assert.ok(criuArgs.includes("--manage-cgroups=soft"), criuArgs.join(" "));
  assert.ok(!criuArgs.includes("soft"), criuArgs.join(" "));
  assert.equal(JSON.parse((await cell(root, ["state", id])).stdout).status, "running");
  const taken = await cell(root, ["restore", "--bundle", dir, id]);
  assert.equal(taken.code, 1);
  assert.match(taken.stderr, /container with id exists/);
  const debug = await cell(root, ["--debug", "exec", id, "true"]);
  assert.equal(debug.code, 0);
  for (
    const stage of [
      "nsexec container setup",
      "child process in init()",
      "setns_init: about to exec",
    ]
  ) {
    assert.ok(debug.stderr.includes(stage), `${stage} in ${debug.stderr}`);
  }
  assert.match(debug.stderr, /level=debug/);
  assert.equal((await cell(root, ["delete", "-f", id])).code, 0);
});

Deno.test("cli: update under a pod's CPU limit takes a shorter period; unlimited memory unlimits swap (v1)", async () => {
  const root = await stateRoot();
  const pod = `cell-clirunc-pod-${Deno.pid}`;
  const podDir = `/sys/fs/cgroup/cpu/${pod}`;
  Deno.mkdirSync(podDir);
  const id = uid("pod");
  try {
    Deno.writeTextFileSync(`${podDir}/cpu.cfs_quota_us`, "50000"); // half a CPU
    const dir = await bundle(["sleep", "60"], (s) => {
      s.linux!.cgroupsPath = `/${pod}/${id}`;
      s.linux!.resources = {
        ...s.linux!.resources,
        cpu: { quota: 500000, period: 1000000 },
        memory: { limit: 64 * 2 ** 20, swap: 96 * 2 ** 20 },
      };
    });
    assert.equal(
      (await cell(root, ["run", "-d", "--bundle", dir, id], { detached: true })).code,
      0,
    );
    const cpu = `${podDir}/${id}`;
    // More than the pod allows is refused by the kernel; 30% with a shorter period is not
    // (the period, written first, would make the old quota 50 CPUs).
    assert.equal((await cell(root, ["update", "--cpu-quota", "600000", id])).code, 1);
    const shorter = await cell(root, [
      "update",
      "--cpu-period",
      "10000",
      "--cpu-quota",
      "3000",
      id,
    ]);
    assert.equal(shorter.code, 0, shorter.stderr);
    assert.equal(Deno.readTextFileSync(`${cpu}/cpu.cfs_period_us`).trim(), "10000");
    assert.equal(Deno.readTextFileSync(`${cpu}/cpu.cfs_quota_us`).trim(), "3000");
    const memory = `/sys/fs/cgroup/memory/${pod}/${id}`;
    const unlimited = await cell(root, ["update", id, "--memory", "-1"]);
    assert.equal(unlimited.code, 0, unlimited.stderr);
    const max = Deno.readTextFileSync("/sys/fs/cgroup/memory/memory.limit_in_bytes").trim();
    assert.equal(Deno.readTextFileSync(`${memory}/memory.limit_in_bytes`).trim(), max);
    if (exists(`${memory}/memory.memsw.limit_in_bytes`)) {
      assert.equal(Deno.readTextFileSync(`${memory}/memory.memsw.limit_in_bytes`).trim(), max);
    }
  } finally {
    await cell(root, ["delete", "-f", id]);
    for (const d of cgroupDirsOf(pod).sort().reverse()) {
      try {
        Deno.removeSync(d);
      } catch { /* another hierarchy's, gone with it */ }
    }
  }
});
