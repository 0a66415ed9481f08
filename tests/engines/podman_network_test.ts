/**
 * podman's bridge network (netavark) with cell as the runtime: podman makes the netns and its
 * veth on a bridge, cell joins that netns by path. The network is the test's own (a unique
 * name, bridge and 10.214.x.0/24 subnet, its config in a temp dir); netavark's host changes
 * (ip_forward, iptables chains) are put back after. Needs Debian's podman, conmon, netavark
 * (`sudo tools/setup.sh --with-engines`).
 */

import assert from "node:assert/strict";
import {
  removeEmptyCgroups,
  requirePrograms,
  sh,
  unmountBelow,
  workspace,
  writePodmanConfig,
} from "../support/engines.ts";
import { requireNetavark, snapshotNetavarkHost } from "../support/netavark_host.ts";

/** A /24 in 10.214.0.0/16 that no host address or route uses now. */
function freeSubnet(): number {
  const used = new TextDecoder().decode(
    new Deno.Command("ip", { args: ["-4", "route", "show", "table", "all"], stdout: "piped" })
      .outputSync().stdout,
  );
  const start = Deno.pid % 250;
  for (let i = 0; i < 250; i++) {
    const octet = 1 + (start + i) % 250;
    if (!used.includes(`10.214.${octet}.`)) return octet;
  }
  throw new Error("no free /24 in 10.214.0.0/16 for the test's podman network");
}

Deno.test("podman's bridge network (netavark): cell's containers get an address and reach each other", async () => {
  requirePrograms(["podman", "conmon", "ip"]);
  requireNetavark();
  const octet = freeSubnet();
  const name = `cell-netdev-${Deno.pid}`;
  const bridge = `cellnd${Deno.pid % 100000}`;
  const restoreHost = snapshotNetavarkHost();
  const { dir, cell, rootfsTar } = await workspace();
  const env = writePodmanConfig(dir, { cell }, { defaultNetwork: name });
  const podman = (args: string[]) => sh("podman", args, env);
  const image = "localhost/cell-busybox";
  try {
    const imported = await podman(["import", "-q", rootfsTar, image]);
    assert.equal(imported.code, 0, imported.stderr);
    // The network written as podman writes it, with a bridge name of the test's own (podman
    // 4.3's `network create` cannot name the bridge).
    const id = [...crypto.getRandomValues(new Uint8Array(32))]
      .map((b) => b.toString(16).padStart(2, "0")).join("");
    Deno.mkdirSync(`${dir}/networks`, { recursive: true });
    Deno.writeTextFileSync(
      `${dir}/networks/${name}.json`,
      JSON.stringify({
        name,
        id,
        driver: "bridge",
        network_interface: bridge,
        created: new Date().toISOString(),
        subnets: [{ subnet: `10.214.${octet}.0/24`, gateway: `10.214.${octet}.1` }],
        ipv6_enabled: false,
        internal: false,
        dns_enabled: false,
        ipam_options: { driver: "host-local" },
      }),
    );
    const listed = await podman(["network", "inspect", "-f", "{{.NetworkInterface}}", name]);
    assert.equal(listed.stdout, `${bridge}\n`, listed.stderr);

    // --network bridge: podman's default network, this test's own (default_network).
    const addr = await podman([
      "run",
      "--rm",
      "--network",
      "bridge",
      image,
      "sh",
      "-c",
      "ip -4 -o addr show eth0; ip -4 route show default",
    ]);
    assert.equal(addr.code, 0, addr.stderr);
    assert.match(addr.stdout, new RegExp(`inet 10\\.214\\.${octet}\\.\\d+/24`), addr.stdout);
    assert.match(addr.stdout, new RegExp(`default via 10\\.214\\.${octet}\\.1 `), addr.stdout);

    // Two containers on it: a TCP echo server and a client, and a ping, each bounded.
    const server = await podman([
      "run",
      "-d",
      "--name",
      `${name}-srv`,
      "--network",
      "bridge",
      image,
      "nc",
      "-ll",
      "-p",
      "7000",
      "-e",
      "cat",
    ]);
    assert.equal(server.code, 0, server.stderr);
    const inspected = await podman([
      "inspect",
      "-f",
      `{{(index .NetworkSettings.Networks "${name}").IPAddress}}`,
      `${name}-srv`,
    ]);
    const serverIp = inspected.stdout.trim();
    assert.match(serverIp, new RegExp(`^10\\.214\\.${octet}\\.\\d+$`), inspected.stderr);
    const inside = await podman(["exec", `${name}-srv`, "ip", "-4", "-o", "addr", "show", "eth0"]);
    assert.match(inside.stdout, new RegExp(`inet ${serverIp.replaceAll(".", "\\.")}/24`));

    const client = await podman([
      "run",
      "--rm",
      "--network",
      name,
      "--cap-add",
      "NET_RAW",
      image,
      "sh",
      "-c",
      // The server may still be starting: retry the connection for up to 10 s.
      `ping -c 1 -W 5 ${serverIp} >/dev/null || ping -c 1 -W 5 ${serverIp} >/dev/null || exit 7
       for i in $(seq 50); do
         out=$(echo echo-through-podman | timeout 5 nc -w 3 ${serverIp} 7000) && [ -n "$out" ] &&
           echo "$out" && exit 0
         sleep 0.2
       done
       exit 8`,
    ]);
    assert.equal(client.code, 0, `ping (7) or TCP echo (8) failed: ${client.stderr}`);
    assert.equal(client.stdout, "echo-through-podman\n", client.stderr);
  } finally {
    await podman(["rm", "-a", "-f", "-t", "0"]);
    await podman(["network", "rm", "-f", name]);
    await podman(["rmi", "-a", "-f"]);
    unmountBelow(dir);
    removeEmptyCgroups("libpod_parent");
    await Deno.remove(dir, { recursive: true });
    restoreHost();
  }
  const links = new TextDecoder().decode(
    new Deno.Command("ip", { args: ["-o", "link"], stdout: "piped" }).outputSync().stdout,
  );
  assert.doesNotMatch(links, new RegExp(`: ${bridge}[:@]`), "the network's bridge is gone");
});
