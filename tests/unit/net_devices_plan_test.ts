/**
 * The pure plan of `linux.netDevices`: which addresses are kept (permanent, global scope, of
 * the device only), the move request (one RTM_NEWLINK by ifindex with the namespace fd and the
 * new name), and a missing device failing the whole plan naming every one missing.
 */

import assert from "node:assert/strict";
import { ContainerError } from "../../src/errors.ts";
import {
  attrString,
  attrU32,
  findAttribute,
  parseAttributes,
} from "../../src/network/attributes.ts";
import { keptAddresses, planNetDeviceMoves } from "../../src/network/net_devices_plan.ts";
import { NLM_F } from "../../src/network/netlink_message.ts";
import {
  type AddressInfo,
  AF,
  IFA_F,
  IFLA,
  type LinkInfo,
  RT,
  RTM,
} from "../../src/network/rtnetlink.ts";

function address(index: number, last: number, flags: number, scope: number): AddressInfo {
  return {
    family: AF.INET,
    prefix: 24,
    flags,
    scope,
    index,
    address: new Uint8Array([10, 214, 0, last]),
    attributes: [],
  };
}

function link(index: number, name: string): LinkInfo {
  return { index, name, flags: 0, attributes: [] };
}

Deno.test("netDevices plan: only the device's permanent addresses of global scope are kept", () => {
  const addresses = [
    address(7, 1, IFA_F.PERMANENT, RT.SCOPE_UNIVERSE),
    address(7, 2, 0, RT.SCOPE_UNIVERSE), // dynamic (a DHCP lease, autoconfiguration)
    address(7, 3, IFA_F.PERMANENT, RT.SCOPE_LINK),
    address(7, 4, IFA_F.PERMANENT, RT.SCOPE_HOST),
    address(8, 5, IFA_F.PERMANENT, RT.SCOPE_UNIVERSE), // another device's
  ];
  assert.deepEqual(keptAddresses(addresses, 7), [
    { family: AF.INET, address: new Uint8Array([10, 214, 0, 1]), prefix: 24 },
  ]);
});

Deno.test("netDevices plan: one RTM_NEWLINK per device, by ifindex, with the netns fd and the new name", () => {
  const links = new Map([["veth7", link(7, "veth7")], ["veth8", link(8, "veth8")]]);
  const moves = planNetDeviceMoves(
    { veth7: { name: "eth0" }, veth8: {} },
    links,
    [address(7, 1, IFA_F.PERMANENT, RT.SCOPE_UNIVERSE)],
    42,
  );
  assert.deepEqual(moves.map((m) => [m.host, m.index, m.target, m.addresses.length]), [
    ["veth7", 7, "eth0", 1],
    ["veth8", 8, "veth8", 0],
  ]);
  const move = moves[0].move;
  assert.equal(move.type, RTM.NEWLINK);
  assert.equal(move.flags & NLM_F.CREATE, 0, "an existing link is changed, none made");
  assert.notEqual(move.flags & NLM_F.ACK, 0);
  const header = new DataView(move.body.buffer, move.body.byteOffset, 16);
  assert.equal(header.getInt32(4, true), 7, "ifi_index");
  const attributes = parseAttributes(move.body.subarray(16));
  assert.equal(attrU32(findAttribute(attributes, IFLA.NET_NS_FD)), 42);
  assert.equal(attrString(findAttribute(attributes, IFLA.IFNAME)), "eth0");
});

Deno.test("netDevices plan: missing devices fail the whole plan, each named", () => {
  const links = new Map([["veth7", link(7, "veth7")]]);
  assert.throws(
    () => planNetDeviceMoves({ veth7: {}, gone1: {}, gone2: { name: "x" } }, links, [], 3),
    (e: unknown) =>
      e instanceof ContainerError && e.code === "ConfigInvalid" &&
      e.message === 'linux.netDevices["gone1"]: no network device "gone1" on the host\n' +
          'linux.netDevices["gone2"]: no network device "gone2" on the host',
  );
});
