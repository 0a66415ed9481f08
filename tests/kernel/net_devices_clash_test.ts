/**
 * `linux.netDevices` next to the `network` option when a device's host ifindex is the one the
 * option's veth gets inside (2): each keeps its own address, and a failed start moves the
 * device (not the veth) back. The host here is a namespace of the child's own (`unshare -n`),
 * the only place a device can be made with ifindex 2 (tests/support/net_devices_clash_child.ts).
 */

import assert from "node:assert/strict";

async function runChild(mode: string): Promise<void> {
  const child = new URL("../support/net_devices_clash_child.ts", import.meta.url).pathname;
  const out = await new Deno.Command("unshare", {
    args: ["-n", Deno.execPath(), "run", "-A", child, mode],
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(120_000),
  }).output();
  const text = new TextDecoder();
  const all = text.decode(out.stdout) + text.decode(out.stderr);
  assert.ok(out.success, `the child (${mode}) failed:\n${all}`);
  assert.match(all, /clash child: ok/);
}

Deno.test("netDevices: a device with the ifindex of the network option's veth inside keeps its own address", async () => {
  await runChild("running");
});

Deno.test("netDevices: a failed start with the network option moves the device, not the veth, back", async () => {
  await runChild("failing");
});
