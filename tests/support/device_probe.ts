/**
 * Checks a cgroup v2 device filter from a real process: a shell placed in a fresh
 * cgroup with the given rules tries to open a device, and /dev/null.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { DeviceRule } from "../../mod.ts";
import { V2Manager } from "../../src/cgroups/v2.ts";
import { cgroupDirsOf, uniqueId } from "./fixture.ts";

/** "open" or "denied" for `device`, from inside a v2 cgroup with `rules` (root: its mount). */
export async function probeDevice(
  rules: readonly DeviceRule[],
  device: string,
  root?: string,
): Promise<string> {
  const id = uniqueId("bpf");
  const cg = new V2Manager({ path: `/cell/${id}`, root, resources: { devices: [...rules] } });
  cg.create();
  try {
    // The shell waits until it is in the cgroup, then tries.
    const script = `read go; (exec 3<${device}) 2>/dev/null && echo open || echo denied; ` +
      "echo x > /dev/null && echo null-ok";
    const child = new Deno.Command("sh", { args: ["-c", script], stdin: "piped", stdout: "piped" })
      .spawn();
    Deno.writeTextFileSync(cg.procsFiles()[0], String(child.pid));
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode("go\n"));
    await writer.close();
    const out = new TextDecoder().decode((await child.output()).stdout);
    assert.match(out, /\nnull-ok\n$/, "the default rules keep /dev/null open");
    return out.split("\n")[0];
  } finally {
    await cg.remove();
    assert.deepEqual(cgroupDirsOf(id), []);
  }
}
