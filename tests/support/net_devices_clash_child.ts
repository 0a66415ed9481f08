/**
 * Run by tests/kernel/net_devices_clash_test.ts under `unshare -n`, so that this process's
 * own network namespace (the "host" here) has lo only and a device can be made with ifindex
 * 2: the ifindex the `network` option's veth gets when it is born in the container's
 * namespace. Moves that device in with `linux.netDevices` next to the veth (eth0): each must
 * keep its own address. `failing` makes the start fail after the moves (a prestart hook):
 * the device must be back under its name with its address, the veth's host end gone.
 * Throws (exit code not 0) on any mismatch; everything it makes dies with its namespace.
 */

import assert from "node:assert/strict";
import type { NetworkOptions } from "../../mod.ts";
import { assertNothingLeft, busyboxConfig, runIn, testFactory, uniqueId } from "./fixture.ts";
import { hostHasLink, ip } from "./host_links.ts";

const failing = Deno.args[0] === "failing";
const tag = `${Deno.pid % 100000}`;
const [device, peer, hostEnd] = [`cnc${tag}d`, `cnc${tag}p`, `cnc${tag}h`];
ip("link", "set", "lo", "up");
// The peer is registered first: it gets an index of its own, so the device can have 2.
ip("link", "add", device, "index", "2", "type", "veth", "peer", "name", peer, "index", "3");
ip("addr", "add", "10.216.250.50/24", "dev", device);
ip("link", "set", device, "up");
const network: NetworkOptions = {
  interfaces: [{ type: "veth", hostName: hostEnd, name: "eth0", addresses: ["10.216.251.2/24"] }],
};
const factory = await testFactory();
const id = uniqueId("netdev-clash");
const box = await factory.create(
  id,
  await busyboxConfig(failing ? ["true"] : ["sleep", "60"], (s) => {
    s.linux!.netDevices = { [device]: { name: "eth1" } };
    if (failing) s.hooks = { prestart: [{ path: "/bin/sh", args: ["sh", "-c", "exit 1"] }] };
  }),
  { network },
);
try {
  if (failing) {
    await assert.rejects(() => box.start({ stdin: "null" }));
    assert.ok(hostHasLink(device), `"${device}" is back under its name`);
    assert.match(ip("-o", "addr", "show", "dev", device), /inet 10\.216\.250\.50\/24 /);
    // The device itself (its peer's partner), not the veth under its name.
    assert.match(ip("-o", "link", "show", "dev", device), new RegExp(`^\\d+: ${device}@${peer}:`));
    assert.ok(!hostHasLink(hostEnd), "the veth is gone with the failed start");
  } else {
    await box.start({ stdin: "null" });
    const out = await runIn(box, { args: ["ip", "-o", "-4", "addr"] });
    assert.equal(out.code, 0, out.stderr);
    const of = (name: string) =>
      out.stdout.split("\n").filter((l) => new RegExp(`^\\d+: ${name} `).test(l)).join("\n");
    assert.match(of("eth1"), /inet 10\.216\.250\.50\/24 /, `the device's own:\n${out.stdout}`);
    assert.doesNotMatch(of("eth1"), /10\.216\.251\./, `not the veth's:\n${out.stdout}`);
    assert.match(of("eth0"), /inet 10\.216\.251\.2\/24 /, `the veth's own:\n${out.stdout}`);
    assert.doesNotMatch(of("eth0"), /10\.216\.250\./, `not the device's:\n${out.stdout}`);
  }
} finally {
  await box.destroy();
}
assertNothingLeft(factory, id);
console.log("clash child: ok");
