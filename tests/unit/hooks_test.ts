/**
 * OCI lifecycle hooks run for real, without root: small shell scripts in a temp dir that
 * record what they got (stdin, environment, arguments) into files the tests read back.
 */

import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { type Hook, runHooks, runHooksWarnOnly } from "../../src/hooks/run.ts";
import { lines, rejection, script, STATE, withDir } from "../support/hook_scripts.ts";

Deno.test("a hook reads the container state as JSON on stdin", async () => {
  await withDir(async (dir) => {
    const hook = { path: script(dir, "state", `/usr/bin/cat > ${dir}/state.json`) };
    await runHooks("createRuntime", [hook], STATE);
    const got = JSON.parse(readFileSync(`${dir}/state.json`, "utf8"));
    assert.deepEqual(got, STATE);
  });
});

Deno.test("a hook gets exactly the environment it names", async () => {
  await withDir(async (dir) => {
    const body = `/usr/bin/tr '\\0' '\\n' < /proc/$$/environ > ${dir}/env`;
    const path = script(dir, "env", body);
    await runHooks("poststart", [{ path, env: ["A=1", "B=x=y", "A=2", "EMPTY="] }], STATE);
    assert.deepEqual(lines(`${dir}/env`).sort(), ["A=2", "B=x=y", "EMPTY="]);
    await runHooks("poststart", [{ path }], STATE);
    assert.deepEqual(lines(`${dir}/env`), [], "no env given: an empty environment, no PATH");
  });
});

Deno.test("args[0] is argv[0] and the rest are the arguments", async () => {
  await withDir(async (dir) => {
    const path = script(dir, "args", `printf '%s\\n' "$@" > ${dir}/args`);
    await runHooks("prestart", [{ path, args: ["ignored", "one", "two words", ""] }], STATE);
    assert.deepEqual(lines(`${dir}/args`), ["one", "two words", ""]);
    // A script cannot see its argv[0] (the kernel replaces it), a shell started directly can.
    const cmdline = `/usr/bin/tr '\\0' '\\n' < /proc/$$/cmdline > ${dir}/cmdline`;
    await runHooks("prestart", [{ path: "/bin/sh", args: ["custom-argv0", "-c", cmdline] }], STATE);
    assert.deepEqual(lines(`${dir}/cmdline`), ["custom-argv0", "-c", cmdline]);
    await runHooks("prestart", [{ path: "/usr/bin/true", args: [] }], STATE);
  });
});

Deno.test("hooks run one after another in the listed order", async () => {
  await withDir(async (dir) => {
    const hooks = ["a", "b", "c"].map((name) => ({
      path: script(
        dir,
        name,
        `/usr/bin/sleep 0.0${name === "a" ? 3 : 1}; echo ${name} >> ${dir}/order`,
      ),
    }));
    await runHooks("createContainer", hooks, STATE);
    assert.deepEqual(lines(`${dir}/order`), ["a", "b", "c"]);
  });
});

Deno.test("a failing hook throws SystemError and the later hooks do not run", async () => {
  await withDir(async (dir) => {
    const ok = { path: script(dir, "ok", `echo ran >> ${dir}/ran`) };
    const bad = {
      path: script(dir, "bad", "echo starting; echo 'no network for you' >&2; exit 3"),
    };
    const e = await rejection(runHooks("createRuntime", [ok, bad, ok], STATE));
    assert.equal(e.code, "SystemError");
    assert.equal(e.path, bad.path);
    assert.equal(
      e.message,
      `error running hook #1 (createRuntime ${bad.path}): exit status 3: no network for you`,
    );
    assert.deepEqual(lines(`${dir}/ran`), ["ran"]);
    const quiet = { path: script(dir, "quiet", "exit 1") };
    const e2 = await rejection(runHooks("startContainer", [quiet], STATE));
    assert.equal(e2.message, `error running hook #0 (startContainer ${quiet.path}): exit status 1`);
    const out = { path: script(dir, "out", "echo only stdout; exit 2") };
    const e3 = await rejection(runHooks("prestart", [out], STATE));
    assert.equal(
      e3.message,
      `error running hook #0 (prestart ${out.path}): exit status 2: only stdout`,
    );
  });
});

Deno.test("a hook killed by a signal, or that cannot start, fails", async () => {
  await withDir(async (dir) => {
    const signalled = { path: script(dir, "signalled", "kill -TERM $$") };
    const e = await rejection(runHooks("poststart", [signalled], STATE));
    assert.equal(
      e.message,
      `error running hook #0 (poststart ${signalled.path}): killed by signal SIGTERM (terminated)`,
    );
    const missing = { path: `${dir}/missing` };
    const e2 = await rejection(runHooks("createRuntime", [missing], STATE));
    assert.equal(e2.code, "SystemError");
    assert.equal(e2.path, missing.path);
    assert.match(
      e2.message,
      /^error running hook #\d+ \(createRuntime .*\/missing\): cannot run it: .*ENOENT/,
    );
    Deno.writeTextFileSync(`${dir}/plain`, "not a program\n", { mode: 0o644 });
    const e3 = await rejection(runHooks("createRuntime", [{ path: `${dir}/plain` }], STATE));
    assert.match(e3.message, /cannot run it: .*EACCES/);
  });
});

Deno.test("a hook past its timeout is killed with what it started", async () => {
  await withDir(async (dir) => {
    const body = `/usr/bin/sleep 30 & echo $! > ${dir}/child\n/usr/bin/sleep 30`;
    const slow = { path: script(dir, "slow", body), timeout: 1 };
    const after = { path: script(dir, "after", `echo ran > ${dir}/after`) };
    const started = performance.now();
    const e = await rejection(runHooks("createContainer", [slow, after], STATE));
    const elapsed = performance.now() - started;
    assert.ok(elapsed < 5000, `took ${elapsed} ms`);
    assert.ok(elapsed >= 900, `took only ${elapsed} ms`);
    assert.equal(e.code, "SystemError");
    assert.equal(
      e.message,
      `error running hook #0 (createContainer ${slow.path}): timed out after 1s`,
    );
    assert.ok(!existsSync(`${dir}/after`));
    const child = Number(readFileSync(`${dir}/child`, "utf8"));
    assert.ok(!isRunning(child), `the hook's background sleep ${child} survived`);
  });
});

Deno.test("a hook that leaves a process holding its output still finishes at once", async () => {
  await withDir(async (dir) => {
    const body = `/usr/bin/sleep 30 & echo $! > ${dir}/child; echo done`;
    const hook = { path: script(dir, "daemon", body), timeout: 10 };
    const started = performance.now();
    await runHooks("poststart", [hook], STATE);
    const elapsed = performance.now() - started;
    const child = Number(readFileSync(`${dir}/child`, "utf8"));
    try {
      assert.ok(elapsed < 2000, `took ${elapsed} ms`);
      assert.ok(isRunning(child), "a hook that succeeded keeps what it started");
    } finally {
      Deno.kill(child, "SIGKILL");
    }
  });
});

Deno.test("only the end of a hook's output is kept", async () => {
  await withDir(async (dir) => {
    const body = "i=0; while [ $i -lt 2000 ]; do echo line$i >&2; i=$((i+1)); done; exit 1";
    const loud = { path: script(dir, "loud", body) };
    const e = await rejection(runHooks("poststop", [loud], STATE));
    assert.ok(e.message.length < 4096 + 200, `message of ${e.message.length} characters`);
    assert.ok(e.message.endsWith("line1998\nline1999"), e.message.slice(-40));
    assert.ok(!e.message.includes("line0\n"));
  });
});

Deno.test("warn-only runs every hook and returns one message per failure", async () => {
  await withDir(async (dir) => {
    const hooks: Hook[] = [
      { path: script(dir, "one", "echo first failed >&2; exit 4") },
      { path: script(dir, "two", `echo ran >> ${dir}/ran`) },
      { path: `${dir}/missing` },
      { path: script(dir, "slow", "/usr/bin/sleep 30"), timeout: 1 },
      { path: script(dir, "three", `echo ran >> ${dir}/ran`) },
    ];
    const warnings = await runHooksWarnOnly("poststop", hooks, STATE);
    assert.equal(warnings.length, 3, warnings.join("\n"));
    assert.equal(
      warnings[0],
      `error running hook #0 (poststop ${hooks[0].path}): exit status 4: first failed`,
    );
    assert.match(warnings[1], /^error running hook #\d+ \(poststop .*\/missing\): cannot run it/);
    assert.equal(
      warnings[2],
      `error running hook #3 (poststop ${hooks[3].path}): timed out after 1s`,
    );
    assert.deepEqual(lines(`${dir}/ran`), ["ran", "ran"]);
    assert.deepEqual(await runHooksWarnOnly("poststop", hooks.slice(1, 2), STATE), []);
    assert.deepEqual(await runHooksWarnOnly("poststop", undefined, STATE), []);
    await runHooks("poststart", undefined, STATE);
    await runHooks("poststart", [], STATE);
  });
});

/** Whether `pid` is a live process (not gone, not a zombie waiting to be reaped). */
function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}
