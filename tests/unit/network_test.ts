/**
 * The network option's pure parts: addresses parsed strictly, netlink messages and attributes
 * as the kernel frames them, the planner's steps, and validation naming each field.
 */

import assert from "node:assert/strict";
import { ContainerError, defaultConfig } from "../../mod.ts";
import { AttributeWriter, NLA_F_NESTED, parseAttributes } from "../../src/network/attributes.ts";
import { formatIp, parseCidr, parseIp, parseMac } from "../../src/network/ip.ts";
import {
  encodeMessage,
  NLM_F,
  NLMSG,
  parseAck,
  parseMessages,
} from "../../src/network/netlink_message.ts";
import { planNetwork } from "../../src/network/plan.ts";
import { IFLA, newVethRequest, RTM, setLinkRequest } from "../../src/network/rtnetlink.ts";
import { validateNetwork } from "../../src/network/validate.ts";

Deno.test("IPv4, IPv6, CIDRs and MACs are parsed strictly and printed back", () => {
  assert.deepEqual(parseIp("10.213.1.2")?.address, Uint8Array.of(10, 213, 1, 2));
  for (const bad of ["10.213.1", "10.213.1.256", "10.213.01.2", "1.2.3.4.5", "", "a.b.c.d"]) {
    assert.equal(parseIp(bad), undefined, bad);
  }
  assert.equal(formatIp(parseIp("fd00:213::66")!.address), "fd00:213::66");
  assert.equal(formatIp(parseIp("::")!.address), "::");
  assert.equal(formatIp(parseIp("1:0:0:2:0:0:0:3")!.address), "1:0:0:2::3");
  assert.deepEqual(
    parseIp("::ffff:10.213.0.1")!.address.slice(10),
    Uint8Array.of(0xff, 0xff, 10, 213, 0, 1),
  );
  for (const bad of ["1::2::3", "1:2:3:4:5:6:7:8:9", "12345::", "g::1", "1:2:3:4:5:6:7"]) {
    assert.equal(parseIp(bad), undefined, bad);
  }
  assert.deepEqual(parseCidr("10.213.1.0/24"), {
    family: 2,
    address: Uint8Array.of(10, 213, 1, 0),
    prefix: 24,
  });
  assert.equal(parseCidr("fd00::/128")?.prefix, 128);
  for (const bad of ["10.213.1.0/33", "fd00::/129", "10.213.1.0", "10.213.1.0/", "10.0.0.0/024"]) {
    assert.equal(parseCidr(bad), undefined, bad);
  }
  assert.deepEqual(parseMac("02:13:AA:00:00:01"), Uint8Array.of(2, 0x13, 0xaa, 0, 0, 1));
  for (const bad of ["01:00:5e:00:00:01", "00:00:00:00:00:00", "02:13:aa:00:00", "0213aa000001"]) {
    assert.equal(parseMac(bad), undefined, bad);
  }
});

Deno.test("netlink messages and attributes are framed as the kernel reads them", () => {
  const attrs = new AttributeWriter()
    .string(IFLA.IFNAME, "abc")
    .u32(IFLA.MTU, 1400)
    .nested(IFLA.LINKINFO, (w) => w.string(1, "veth"))
    .bytes();
  // "abc\0" is 8 bytes with its header; the u32 8; the nest 4 + "veth\0" padded (12) = 16.
  assert.equal(attrs.length, 32);
  const parsed = parseAttributes(attrs);
  assert.deepEqual(parsed.map((a) => a.type), [IFLA.IFNAME, IFLA.MTU, IFLA.LINKINFO]);
  assert.equal(new DataView(attrs.buffer).getUint16(18, true), IFLA.LINKINFO | NLA_F_NESTED);

  const request = setLinkRequest({ name: "eth0" }, { up: true });
  const bytes = encodeMessage(request, 77);
  const [message] = parseMessages(bytes);
  assert.equal(message.type, RTM.NEWLINK);
  assert.equal(message.seq, 77);
  assert.equal(message.flags, NLM_F.REQUEST | NLM_F.ACK);
  assert.equal(new DataView(bytes.buffer).getUint32(0, true), bytes.length);
  // ifi_flags and ifi_change both carry IFF_UP.
  assert.equal(new DataView(bytes.buffer).getUint32(24, true), 1);
  assert.equal(new DataView(bytes.buffer).getUint32(28, true), 1);
});

Deno.test("an NLMSG_ERROR with extended-ack attributes gives its errno and message", () => {
  const tlvs = new AttributeWriter().string(1, "Unknown device type").u32(2, 36).bytes();
  const payload = new Uint8Array(4 + 16 + tlvs.length);
  const v = new DataView(payload.buffer);
  v.setInt32(0, -95, true);
  v.setUint32(4, 16, true); // the quoted request's header
  payload.set(tlvs, 20);
  const bytes = encodeMessage(
    { type: NLMSG.ERROR, flags: NLM_F.CAPPED | NLM_F.ACK_TLVS, body: payload },
    5,
  );
  const ack = parseAck(parseMessages(bytes)[0]);
  assert.deepEqual(ack, { errno: 95, message: "Unknown device type", offset: 36 });
  assert.throws(() => parseMessages(bytes.subarray(0, 20)), RangeError);
});

Deno.test("the veth request puts the peer, with its namespace fd, inside IFLA_INFO_DATA", () => {
  const request = newVethRequest(
    { name: "h0", mtu: 1400 },
    { name: "eth0", mtu: 1400, netnsFd: 9 },
  );
  const top = parseAttributes(request.body.subarray(16));
  const info = parseAttributes(top.find((a) => a.type === IFLA.LINKINFO)!.value);
  const data = parseAttributes(info.find((a) => a.type === 2)!.value);
  const peer = parseAttributes(data[0].value.subarray(16)); // after the peer's ifinfomsg
  const fd = peer.find((a) => a.type === IFLA.NET_NS_FD)!.value;
  assert.equal(new DataView(fd.buffer, fd.byteOffset).getUint32(0, true), 9);
  assert.equal(new TextDecoder().decode(peer[0].value), "eth0\0");
});

Deno.test("the planner orders bridge, veth, addresses, up, routes, with their fields", () => {
  const steps = planNetwork({
    interfaces: [{ type: "loopback" }, {
      type: "veth",
      hostName: "h0",
      mtu: 1400,
      addresses: ["10.213.1.2/24"],
      routes: [{ gateway: "10.213.1.1" }, { destination: "fd00::/8" }],
      bridge: { name: "br0", create: true },
    }],
  });
  assert.deepEqual(
    steps.map((s) => `${s.step} ${s.field}`),
    [
      "up network.interfaces[0]",
      "bridge network.interfaces[1].bridge",
      "veth network.interfaces[1]",
      "address network.interfaces[1].addresses[0]",
      "up network.interfaces[1]",
      "route network.interfaces[1].routes[0]",
      "route network.interfaces[1].routes[1]",
    ],
  );
  const route = steps[5];
  assert.ok(route.step === "route");
  assert.equal(route.destination.prefix, 0, "a gateway alone is the default route");
  assert.equal(route.link, "eth0", "the container end's default name");
});

Deno.test("validation names every bad field and needs a network namespace", () => {
  const spec = defaultConfig({ rootfs: "/", args: ["true"] });
  const refuse = (network: unknown, ...fields: string[]) =>
    assert.throws(() => validateNetwork(network, spec), (e: unknown) => {
      assert.ok(e instanceof ContainerError && e.code === "ConfigInvalid");
      for (const f of fields) assert.ok(e.message.includes(f), `${f} in ${e.message}`);
      return true;
    });
  refuse({ interfaces: [{ type: "vxlan" }] }, "network.interfaces[0].type");
  refuse(
    {
      interfaces: [{
        type: "veth",
        hostName: "x/y",
        name: "a-name-far-too-long",
        mtu: 70000,
        addresses: ["10.0.0.1/24", "nope"],
        bridge: { name: "br0", addresses: ["10.0.0.254/24"] },
      }],
    },
    "network.interfaces[0].hostName",
    "network.interfaces[0].name",
    "network.interfaces[0].mtu",
    "network.interfaces[0].addresses[1]",
    "network.interfaces[0].bridge.addresses: only a bridge cell creates",
  );
  refuse(
    { interfaces: [{ type: "veth", hostName: "a" }, { type: "veth", hostName: "a" }] },
    "network.interfaces[1].hostName",
    "network.interfaces[1].name",
  );
  const ok = { interfaces: [{ type: "veth", hostName: "a", addresses: ["fd00::2/64"] }] };
  assert.equal(validateNetwork(ok, spec), ok);
  const shared = { ...spec, linux: { ...spec.linux, namespaces: [] } };
  assert.throws(() => validateNetwork(ok, shared), /shares the host's network namespace/);
});

Deno.test("a netDevices target that is a veth's inside name is refused naming both fields", () => {
  const spec = defaultConfig({ rootfs: "/", args: ["true"] });
  spec.linux!.netDevices = { hostnd: { name: "eth0" }, eth1: {} };
  const network = {
    interfaces: [{ type: "veth", hostName: "vh-nd" }, {
      type: "veth",
      hostName: "vh-nd2",
      name: "eth1",
    }],
  };
  assert.throws(() => validateNetwork(network, spec), (e: unknown) => {
    assert.ok(e instanceof ContainerError && e.code === "ConfigInvalid");
    assert.match(
      e.message,
      /network\.interfaces\[0\]\.name: "eth0" is also the name of linux\.netDevices\["hostnd"\]\.name/,
    );
    assert.match(
      e.message,
      /network\.interfaces\[1\]\.name: "eth1" is also the name of linux\.netDevices\["eth1"\]/,
    );
    return true;
  });
  spec.linux!.netDevices = { hostnd: { name: "nd%d" } };
  assert.equal(validateNetwork(network, spec), network);
});
