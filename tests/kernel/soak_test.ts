/**
 * The short soak (`deno task soak --short`) as a test: 50 library cycles, 20 CLI cycles,
 * 50 containers at once and a SIGKILL in every library and CLI step, in a fresh process
 * (so that its fds, threads and RSS are the soak's alone), each part asserted on its own.
 * The tolerances are in bench/soak/verdict.ts.
 */

import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import type { SoakResults } from "../../bench/soak/verdict.ts";
import { LIBRARY_STEPS } from "../../bench/soak/victim.ts";
import { CLI_STEPS, killClean } from "../../bench/soak/kills.ts";

const MAIN = fileURLToPath(new URL("../../bench/soak/main.ts", import.meta.url));

interface SoakJson {
  results: SoakResults;
  findings: string[];
}

async function runShortSoak(): Promise<{ code: number; out: string; json: SoakJson }> {
  const json = await Deno.makeTempFile({ prefix: "cell-soak-", suffix: ".json" });
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--v8-flags=--expose-gc", MAIN, "--short", "--json", json],
      env: { DENO_NO_UPDATE_CHECK: "1" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      // The short soak takes about 15 s here; a hang fails the test instead of CI.
      signal: AbortSignal.timeout(150_000),
    }).output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    let parsed: SoakJson;
    try {
      parsed = JSON.parse(await Deno.readTextFile(json));
    } catch {
      throw new Error(`the soak wrote no results (exit ${out.code}):\n${text}`);
    }
    return { code: out.code, out: text, json: parsed };
  } finally {
    await Deno.remove(json).catch(() => {});
  }
}

Deno.test("short soak: no growth, no failure, nothing left after SIGKILL", async (t) => {
  const { code, out, json } = await runShortSoak();
  const { results } = json;
  const why = (part: string) =>
    `${part}:\n${json.findings.filter((f) => f.startsWith(part)).join("\n")}\n\n${out}`;

  await t.step("library cycles: fds, threads, RSS, heap, mounts, cgroups, state flat", () => {
    assert.ok(results.library, out);
    assert.deepEqual(results.library.run.failures, [], why("library"));
    assert.equal(results.library.run.samples.length, 51, "50 measured cycles and the warm one");
    const grown = results.library.counters.filter((c) => c.grew).map((c) => c.counter);
    assert.deepEqual(grown, [], why("library"));
  });

  await t.step("CLI cycles: mounts, cgroups, state, processes flat", () => {
    assert.ok(results.cli, out);
    assert.deepEqual(results.cli.run.failures, [], why("cli"));
    assert.equal(results.cli.run.samples.length, 21);
    const grown = results.cli.counters.filter((c) => c.grew).map((c) => c.counter);
    assert.deepEqual(grown, [], why("cli"));
  });

  await t.step("50 containers at once: all running, all destroyed, no failure", () => {
    assert.ok(results.burst, out);
    assert.deepEqual(results.burst.failures, [], why("burst"));
    assert.equal(results.burst.running, 50);
  });

  await t.step("SIGKILL in every step: nothing left after a fresh cleanup", () => {
    const kills = results.kills ?? [];
    // One calibration run (the step left to end) and one kill in each step.
    assert.equal(kills.length, 2 * (LIBRARY_STEPS.length + CLI_STEPS.length), out);
    const dirty = kills.filter((k) => !killClean(k));
    assert.deepEqual(dirty.map((k) => k.id), [], why("kill"));
  });

  await t.step("the soak exits 0, and its sweep found nothing it could not remove", () => {
    assert.deepEqual(results.sweep?.problems, [], out);
    assert.equal(code, 0, `the soak exited ${code}:\n${out}`);
  });
});
