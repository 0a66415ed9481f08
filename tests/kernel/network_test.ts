/**
 * The `network` option on the real kernel: veth pairs on a bridge cell makes, traffic between
 * two containers (ping and a TCP echo), what the container sees (MTU, MAC, addresses, routes),
 * counters from the host ends, and nothing left on the host after destroy, a SIGKILLed
 * creator, or a failed start; bad options refused by field before anything is made.
 *
 * Every name carries this process's tag; addresses are in 10.213.0.0/16 and live only in the
 * namespaces the tests make (a bridge cell makes here gets no address unless the test says).
 */

import assert from "node:assert/strict";
import { ContainerError, type NetworkOptions } from "../../mod.ts";
import type { Container, Factory, Spec } from "../../mod.ts";
import { findLink, listLinks } from "../../src/network/links.ts";
import { NetlinkSocket } from "../../src/network/netlink_socket.ts";
import { ownNetns } from "../../src/network/teardown.ts";
import {
  assertNothingLeft,
  busyboxConfig,
  runIn,
  testFactory,
  uniqueId,
  until,
} from "../support/fixture.ts";

/** A short tag unique to this test process, for interface names (at most 15 bytes). */
const TAG = (Deno.pid % 1_000_000).toString(36);
/** A /24 of 10.213.0.0/16 for this process (addresses live only inside test namespaces). */
const NET = `10.213.${100 + Deno.pid % 150}`;

/** The names of the host's links. */
function hostLinkNames(): string[] {
  using host = NetlinkSocket.open();
  return listLinks(host).map((l) => l.name);
}

/** Asserts none of `names` is a link on the host. */
function assertNoLinks(names: string[]): void {
  const left = hostLinkNames().filter((n) => names.includes(n));
  assert.deepEqual(left, [], `links left on the host: ${left}`);
}

/** Runs a command in the container; its stdout, failing the test with its stderr. */
async function sh(box: Container, script: string): Promise<string> {
  const out = await runIn(box, { args: ["sh", "-c", script] });
  assert.equal(out.code, 0, `"${script}" failed (${out.code}): ${out.stderr}${out.stdout}`);
  return out.stdout;
}

function veth(
  hostName: string,
  address: string,
  extra: Partial<NetworkOptions["interfaces"][number]> = {},
): NetworkOptions {
  return {
    interfaces: [{ type: "veth", hostName, addresses: [address], ...extra } as never],
  };
}

/** busybox's ping opens a raw socket: the config's capabilities get CAP_NET_RAW. */
function withPing(spec: Spec): void {
  const caps = spec.process!.capabilities!;
  for (const set of ["bounding", "effective", "permitted"] as const) {
    caps[set] = [...(caps[set] ?? []), "CAP_NET_RAW"];
  }
}

/** Destroys every container (even when one destroy throws), then checks nothing is left. */
async function destroyAll(factory: Factory, boxes: [Container, string][]): Promise<void> {
  const errors: unknown[] = [];
  for (const [box] of boxes) await box.destroy().catch((e) => errors.push(e));
  if (errors.length > 0) throw errors[0];
  for (const [, id] of boxes) assertNothingLeft(factory, id);
}

Deno.test("two containers on a bridge cell makes reach each other; what they see; counters; nothing left", async () => {
  const factory = await testFactory();
  const bridge = `vcb${TAG}`;
  const [hostA, hostB] = [`vca${TAG}`, `vcz${TAG}`];
  const boxes: [Container, string][] = [];
  try {
    for (const [hostName, last, mac] of [[hostA, 2, "02:13:00:00:00:02"], [hostB, 3, undefined]]) {
      const id = uniqueId("net");
      const network = veth(hostName as string, `${NET}.${last}/24`, {
        mtu: 1400,
        mac: mac as string | undefined,
        routes: [{ gateway: `${NET}.1` }, { destination: "10.213.250.0/24", gateway: `${NET}.9` }],
        bridge: { name: bridge, create: true },
      });
      const box = await factory.create(id, await busyboxConfig(["sleep", "120"], withPing), {
        network,
      });
      boxes.push([box, id]);
      await box.start({ stdin: "null", stdout: "null", stderr: "null" });
    }
    const [[a], [b]] = boxes;

    // The host side: both ends on the bridge, up, with the MTU.
    {
      using host = NetlinkSocket.open();
      const br = findLink(host, bridge)!;
      assert.equal(br.kind, "bridge");
      for (const name of [hostA, hostB]) {
        const end = findLink(host, name)!;
        assert.equal(end.kind, "veth");
        assert.equal(end.masterIndex, br.index, `${name} is on ${bridge}`);
        assert.equal(end.mtu, 1400);
        assert.ok((end.flags & 1) !== 0, `${name} is up`);
      }
    }

    // Inside: the name, MTU, MAC, address and routes.
    assert.equal((await sh(a, "cat /sys/class/net/eth0/mtu")).trim(), "1400");
    assert.equal((await sh(a, "cat /sys/class/net/eth0/address")).trim(), "02:13:00:00:00:02");
    assert.match(await sh(a, "ip -4 addr show dev eth0"), new RegExp(`inet ${NET}\\.2/24`));
    const routes = await sh(a, "cat /proc/net/route");
    // /proc/net/route is little-endian hex: the default route's gateway, and 10.213.250.0/24.
    const hex = (ip: string) =>
      ip.split(".").map(Number).reverse().map((n) => n.toString(16).padStart(2, "0")).join("")
        .toUpperCase();
    assert.match(routes, new RegExp(`eth0\\s+00000000\\s+${hex(`${NET}.1`)}\\s`), routes);
    assert.match(routes, new RegExp(`eth0\\s+${hex("10.213.250.0")}\\s+${hex(`${NET}.9`)}\\s`));
    assert.deepEqual(
      (await sh(a, "ls /sys/class/net")).trim().split(/\s+/).sort(),
      ["eth0", "lo"],
    );

    // Traffic: ping, then a TCP echo through busybox nc, all bounded.
    const before = (await a.stats()).network.find((n) => n.name === "eth0")!;
    const ping = await runIn(a, { args: ["ping", "-c", "3", "-W", "2", "-w", "10", `${NET}.3`] });
    assert.equal(
      ping.code,
      0,
      `ping between two containers on one bridge failed: ${ping.stdout}${ping.stderr} (a host ` +
        `firewall that drops bridged traffic, iptables FORWARD DROP with br_netfilter, does this)`,
    );
    const server = await b.start({
      args: ["timeout", "20", "nc", "-l", "-p", "7213", "-e", "cat"],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    });
    let echoed = "";
    await until("the TCP echo through nc", async () => {
      const out = await runIn(a, {
        args: ["sh", "-c", `echo hello-cell | timeout 5 nc -w 2 ${NET}.3 7213`],
      });
      echoed = out.stdout;
      return echoed.includes("hello-cell");
    }, 15_000);
    assert.equal(echoed.trim(), "hello-cell");
    await server.status;
    const after = (await a.stats()).network.find((n) => n.name === "eth0")!;
    assert.ok(
      after.txPackets >= before.txPackets + 3,
      `tx ${before.txPackets} → ${after.txPackets}`,
    );
    assert.ok(
      after.rxPackets >= before.rxPackets + 3,
      `rx ${before.rxPackets} → ${after.rxPackets}`,
    );
    assert.ok(after.txBytes > before.txBytes && after.rxBytes > before.rxBytes);
    // Counted at the host end, swapped. A download from b makes a's traffic lopsided (512 KiB
    // in, acks out), so counters read unswapped would be far off what a itself counts.
    const sender = await b.start({
      args: [
        "timeout",
        "20",
        "nc",
        "-l",
        "-p",
        "7214",
        "-e",
        "dd",
        "if=/dev/zero",
        "bs=1024",
        "count=512",
      ],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    });
    let got = 0;
    await until("the 512 KiB download through nc", async () => {
      const out = await runIn(a, {
        args: ["sh", "-c", `timeout 10 nc -w 5 ${NET}.3 7214 | wc -c`],
      });
      got = Number(out.stdout.trim());
      return got === 512 * 1024;
    }, 15_000);
    await sender.status;
    const inside = (await sh(a, "cd /sys/class/net/eth0/statistics && cat rx_bytes tx_bytes"))
      .trim().split(/\s+/).map(Number);
    const counted = (await a.stats()).network.find((n) => n.name === "eth0")!;
    assert.ok(inside[0] > 512 * 1024 && inside[0] > 4 * inside[1], `inside rx/tx: ${inside}`);
    const near = (x: number, y: number) => Math.abs(x - y) < 16 * 1024;
    assert.ok(near(counted.rxBytes, inside[0]), `rx ${counted.rxBytes} ~ ${inside[0]}`);
    assert.ok(near(counted.txBytes, inside[1]), `tx ${counted.txBytes} ~ ${inside[1]}`);
  } finally {
    await destroyAll(factory, boxes);
  }
  assertNoLinks([bridge, hostA, hostB]);
});

Deno.test("an IPv6 address and a bridge cell makes with an address of its own", async () => {
  const factory = await testFactory();
  const bridge = `vcc${TAG}`;
  const hostName = `vcd${TAG}`;
  const id = uniqueId("net6");
  const network: NetworkOptions = {
    interfaces: [{ type: "loopback" }, {
      type: "veth",
      hostName,
      name: "net0",
      addresses: [`${NET}.66/30`, "fd00:213::66/64"],
      routes: [{ gateway: "fd00:213::1" }],
      bridge: { name: bridge, create: true, addresses: [`${NET}.65/30`] },
    }],
  };
  const box = await factory.create(id, await busyboxConfig(["sleep", "60"], withPing), { network });
  try {
    await box.start({ stdin: "null", stdout: "null", stderr: "null" });
    assert.match(await sh(box, "ip -6 addr show dev net0"), /inet6 fd00:213::66\/64/);
    assert.match(await sh(box, "ip -6 route"), /default via fd00:213::1 dev net0/);
    // The container reaches the bridge's address on the host.
    await sh(box, `ping -c 1 -W 2 -w 10 ${NET}.65`);
  } finally {
    await box.destroy();
  }
  assertNothingLeft(factory, id);
  assertNoLinks([bridge, hostName]);
});

Deno.test("a bridge cell made stays while another container uses it, goes with the last", async () => {
  const factory = await testFactory();
  const bridge = `vce${TAG}`;
  const names = [`vcf${TAG}`, `vcg${TAG}`];
  const boxes: [Container, string][] = [];
  try {
    for (const [i, hostName] of names.entries()) {
      const id = uniqueId("netbr");
      const network = veth(hostName, `${NET}.${10 + i}/24`, {
        bridge: { name: bridge, create: true },
      });
      const box = await factory.create(id, await busyboxConfig(["sleep", "60"]), { network });
      boxes.push([box, id]);
      await box.start({ stdin: "null", stdout: "null", stderr: "null" });
    }
    await boxes[0][0].destroy();
    assert.ok(hostLinkNames().includes(bridge), "the bridge stays while a port is left");
    assertNoLinks([names[0]]);
  } finally {
    await destroyAll(factory, boxes);
  }
  assertNoLinks([bridge, ...names]);
});

Deno.test("destroy from another process after the creator was SIGKILLed leaves nothing", async () => {
  const factory = await testFactory();
  const id = uniqueId("netkill");
  const bridge = `vch${TAG}`;
  const hostName = `vci${TAG}`;
  const network = veth(hostName, `${NET}.20/24`, { bridge: { name: bridge, create: true } });
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("../support/network_child.ts", import.meta.url).pathname,
      factory.root,
      id,
      JSON.stringify(await busyboxConfig(["sleep", "60"])),
      JSON.stringify(network),
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let initPid = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    try {
      const first = await Promise.race([
        reader.read(),
        new Promise<never>((_, no) => {
          timer = setTimeout(() => no(new Error("the child did not start in 30 s")), 30_000);
        }),
      ]);
      initPid = Number(JSON.parse(first.value ?? "{}").pid);
      assert.ok(initPid > 0, `the child said ${first.value}`);
    } finally {
      clearTimeout(timer);
      child.kill("SIGKILL");
      await child.status;
      await reader.cancel();
    }
    // The creator is gone; the container and its network are not.
    assert.ok(hostLinkNames().includes(hostName), "the veth outlives its creator");
    assert.ok(hostLinkNames().includes(bridge), "so does the bridge");
  } finally {
    await factory.destroy(id);
  }
  assertNothingLeft(factory, id, [initPid]);
  assertNoLinks([bridge, hostName]);
});

function refusedFor(field: string) {
  return (e: unknown) => {
    assert.ok(e instanceof ContainerError, String(e));
    assert.equal(e.code, "ConfigInvalid", e.message);
    assert.ok(e.message.includes(field), `"${field}" in: ${e.message}`);
    return true;
  };
}

Deno.test("bad network options are refused by field, before anything is made", async () => {
  const factory = await testFactory();
  const config = await busyboxConfig(["true"]);
  const hostName = `vcj${TAG}`;
  const bridge = `vck${TAG}`;
  const cases: [NetworkOptions, string][] = [
    [veth(hostName, "10.213.300.2/24"), "network.interfaces[0].addresses[0]"],
    [veth(hostName, "10.213.1.2"), "network.interfaces[0].addresses[0]"],
    [veth(hostName, `${NET}.2/33`), "network.interfaces[0].addresses[0]"],
    [veth(hostName, `${NET}.2/24`, { mac: "01:00:5e:00:00:01" }), "network.interfaces[0].mac"],
    [veth(hostName, `${NET}.2/24`, { mtu: 40 }), "network.interfaces[0].mtu"],
    [veth("a-name-far-too-long", `${NET}.2/24`), "network.interfaces[0].hostName"],
    [
      veth(hostName, `${NET}.2/24`, {
        routes: [{ gateway: "fd00::1", destination: "10.0.0.0/8" }],
      }),
      "network.interfaces[0].routes[0].gateway",
    ],
    // In use on the host: the loopback is everywhere.
    [veth("lo", `${NET}.2/24`), `network.interfaces[0].hostName: "lo" is already in use`],
    [
      veth(hostName, `${NET}.2/24`, { bridge: { name: bridge } }),
      `network.interfaces[0].bridge.name: there is no bridge "${bridge}"`,
    ],
    [
      veth(hostName, `${NET}.2/24`, { bridge: { name: "lo", create: true } }),
      `network.interfaces[0].bridge.name: "lo" on the host is not a bridge`,
    ],
  ];
  for (const [network, field] of cases) {
    const id = uniqueId("netbad");
    await assert.rejects(() => factory.create(id, config, { network }), refusedFor(field));
    assertNothingLeft(factory, id);
  }
  // Without a network namespace there is nowhere to put them.
  const shared = await busyboxConfig(["true"], (s) => {
    s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== "network");
  });
  await assert.rejects(
    () => factory.create(uniqueId("netbad"), shared, { network: veth(hostName, `${NET}.2/24`) }),
    refusedFor("network: the container shares the host's network namespace"),
  );
  assertNoLinks([hostName, bridge]);
});

Deno.test("a start that fails half-way through the network undoes what it made", async () => {
  const factory = await testFactory();
  const id = uniqueId("netfail");
  const bridge = `vcl${TAG}`;
  const hostName = `vcm${TAG}`;
  // The gateway is not on any link of the container: the kernel refuses the route, after the
  // bridge and the veth were made.
  const network = veth(hostName, `${NET}.30/24`, {
    routes: [{ gateway: "10.213.251.1" }],
    bridge: { name: bridge, create: true },
  });
  const box = await factory.create(id, await busyboxConfig(["sleep", "60"]), { network });
  try {
    await assert.rejects(
      () => box.start({ stdin: "null", stdout: "null", stderr: "null" }),
      (e: unknown) => {
        assert.ok(e instanceof ContainerError);
        assert.match(e.message, /network\.interfaces\[0\]\.routes\[0\]: cannot add the route/);
        assert.equal(e.errnoName, "ENETUNREACH", e.message);
        return true;
      },
    );
    assertNoLinks([bridge, hostName]);
    assert.equal(await box.status(), "created", "the state says created again");
  } finally {
    await box.destroy();
  }
  assertNothingLeft(factory, id);
});

Deno.test("teardown from another network namespace refuses, and deletes nothing there", async () => {
  // A link of the same name and ifindex as the record's, in a namespace of its own: the
  // record was made in ours, so the teardown must not touch it.
  const name = `vcx${TAG}`;
  const index = 3000 + Deno.pid % 1000;
  const record = {
    veths: [{ hostName: name, index, name: "eth0" }],
    bridges: [],
    hostNetns: ownNetns(),
  };
  const driver = new URL("../support/teardown_driver.ts", import.meta.url).pathname;
  const script = 'ip link add "$1" index "$2" type veth peer name "$1p" || exit 90; ' +
    '"$3" run -A --no-lock "$4" "$5"; echo "driver=$?"; ' +
    'if ip link show "$1" >/dev/null 2>&1; then echo present; else echo gone; fi';
  const out = await new Deno.Command("unshare", {
    args: [
      "-n",
      "sh",
      "-c",
      script,
      "sh",
      name,
      String(index),
      Deno.execPath(),
      driver,
      JSON.stringify(record),
    ],
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(30_000),
  }).output();
  const text = new TextDecoder();
  const [stdout, stderr] = [text.decode(out.stdout), text.decode(out.stderr)];
  assert.equal(out.code, 0, `unshare -n (util-linux) failed: ${stderr}`);
  assert.match(stdout, /driver=1\n/, `the teardown refused: ${stdout}${stderr}`);
  assert.match(stderr, /made in another network namespace/);
  assert.match(stdout, /present\n/, "the other namespace's link is left alone");
});
