/**
 * A hook run in another process's namespaces (`namespacesOf`): entering them needs root.
 */

import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { runHooks } from "../../src/hooks/run.ts";
import { lines, rejection, script, STATE, withDir } from "../support/hook_scripts.ts";

Deno.test("namespacesOf runs a hook in another process's namespaces", async () => {
  await withDir(async (dir) => {
    const target = new Deno.Command("/usr/bin/unshare", {
      args: [
        "--uts",
        "/bin/sh",
        "-c",
        `hostname cell-hook-ns && touch ${dir}/ready && exec sleep 30`,
      ],
      stdout: "null",
      stderr: "null",
    }).spawn();
    try {
      for (let i = 0; i < 200 && !existsSync(`${dir}/ready`); i++) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      assert.ok(existsSync(`${dir}/ready`), "the target never came up");
      const body = `/usr/bin/hostname > ${dir}/hostname; /usr/bin/cat > ${dir}/state.json`;
      const hook = { path: script(dir, "inside", body) };
      await runHooks("startContainer", [hook], STATE, { namespacesOf: target.pid });
      assert.deepEqual(lines(`${dir}/hostname`), ["cell-hook-ns"]);
      assert.deepEqual(JSON.parse(readFileSync(`${dir}/state.json`, "utf8")), STATE);
      const failing = { path: script(dir, "failing", "exit 5") };
      const e = await rejection(
        runHooks("startContainer", [failing], STATE, { namespacesOf: target.pid }),
      );
      assert.equal(
        e.message,
        `error running hook #0 (startContainer ${failing.path}): exit status 5`,
      );
    } finally {
      target.kill("SIGKILL");
      await target.status;
    }
  });
});
