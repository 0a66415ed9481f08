/**
 * The pure plan of `linux.netDevices`: which addresses are kept (permanent, global scope, of
 * the device only) and how they are put back (local, peer, broadcast, setting flags), the
 * move request (one RTM_NEWLINK by ifindex with the namespace fd and the new name), and a
 * missing device failing the whole plan naming every one missing.
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
import { copyAddressRequest } from "../../src/network/address_copy.ts";
import { NLM_F } from "../../src/network/netlink_message.ts";
import {
  type AddressInfo,
  AF,
  IFA,
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
  assert.deepEqual(keptAddresses(addresses, 7), [addresses[0]]);
});

Deno.test("netDevices plan: one RTM_NEWLINK per device, by ifindex, with the netns fd and a unique temporary name", () => {
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
  // Moved under a unique name, renamed inside after: a clash with the asked name (a veth of
  // the network option) must not leave it inside under its old name.
  const temp = attrString(findAttribute(attributes, IFLA.IFNAME));
  assert.equal(temp, moves[0].temp);
  assert.match(temp, /^cmv[0-9a-f]{4}7$/);
  assert.match(moves[1].temp, /^cmv[0-9a-f]{4}8$/);
  assert.notEqual(temp, "eth0");
  const big = planNetDeviceMoves({ v: {} }, new Map([["v", link(0x7fffffff, "v")]]), [], 1);
  assert.ok(new TextEncoder().encode(big[0].temp).length <= 15, "fits IFNAMSIZ");
  assert.ok(!big[0].temp.includes("%"), "not a template");
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

Deno.test("netDevices plan: an address is put back as listed (peer, broadcast, setting flags)", () => {
  const local = new Uint8Array([10, 214, 0, 20]);
  const peer = new Uint8Array([10, 214, 0, 21]);
  const broadcast = new Uint8Array([10, 214, 0, 255]);
  const attributes = [
    { type: IFA.LOCAL, value: local },
    { type: IFA.ADDRESS, value: peer },
    { type: IFA.BROADCAST, value: broadcast },
    { type: IFA.LABEL, value: new TextEncoder().encode("veth7:old\0") },
  ];
  // Permanent, secondary (states the kernel sets) and noprefixroute (a setting) on the host.
  const listed: AddressInfo = {
    ...address(7, 20, IFA_F.PERMANENT | 0x01 | 0x200, RT.SCOPE_UNIVERSE),
    prefix: 32,
    attributes,
  };
  const request = copyAddressRequest(3, listed);
  assert.equal(request.type, RTM.NEWADDR);
  assert.equal(request.flags & (NLM_F.CREATE | NLM_F.EXCL), NLM_F.CREATE | NLM_F.EXCL);
  const header = new DataView(request.body.buffer, request.body.byteOffset, 8);
  assert.deepEqual([header.getUint8(0), header.getUint8(1), header.getUint8(3)], [AF.INET, 32, 0]);
  assert.equal(header.getUint32(4, true), 3, "ifa_index: the link inside");
  const sent = parseAttributes(request.body.subarray(8));
  assert.deepEqual(findAttribute(sent, IFA.LOCAL), local);
  assert.deepEqual(findAttribute(sent, IFA.ADDRESS), peer);
  assert.deepEqual(findAttribute(sent, IFA.BROADCAST), broadcast);
  assert.equal(findAttribute(sent, IFA.LABEL), undefined, "the label names the old link");
  assert.equal(attrU32(findAttribute(sent, IFA.FLAGS)), 0x200, "settings only");
  const v6 = copyAddressRequest(3, { ...listed, family: AF.INET6, flags: IFA_F.PERMANENT });
  const v6Flags = attrU32(findAttribute(parseAttributes(v6.body.subarray(8)), IFA.FLAGS));
  assert.equal(v6Flags, IFA_F.NODAD, "IPv6: no duplicate address detection in a new namespace");
});
