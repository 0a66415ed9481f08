/**
 * Run by tests/engines/netavark_host_test.ts in a network namespace of its own (iptables and
 * nftables are per namespace, so nothing here touches the host's): a developer's netavark
 * chains, rules and nftables table made before a snapshot survive its restore, while those
 * made after it are removed. Exits non-zero with what went wrong.
 *
 * @module
 */

import assert from "node:assert/strict";
import { snapshotNetavarkHost } from "./netavark_host.ts";

function sh(program: string, ...args: string[]): string {
  const out = new Deno.Command(program, { args, stdout: "piped", stderr: "piped" }).outputSync();
  const text = new TextDecoder();
  if (!out.success) throw new Error(`${program} ${args.join(" ")}: ${text.decode(out.stderr)}`);
  return text.decode(out.stdout);
}

const rules = (program: string) => sh(program, "-t", "filter", "-S");

// iptables (netavark's iptables driver), IPv4 and IPv6.
for (const program of ["iptables", "ip6tables"]) {
  sh(program, "-t", "filter", "-N", "NETAVARK_DEV");
  sh(program, "-t", "filter", "-A", "FORWARD", "-j", "NETAVARK_DEV");
  sh(program, "-t", "filter", "-A", "NETAVARK_DEV", "-j", "ACCEPT");
}
const restore = snapshotNetavarkHost();
for (const program of ["iptables", "ip6tables"]) {
  sh(program, "-t", "filter", "-N", "NETAVARK_TEST");
  sh(program, "-t", "filter", "-A", "NETAVARK_TEST", "-j", "ACCEPT");
  sh(program, "-t", "filter", "-A", "FORWARD", "-j", "NETAVARK_TEST");
  sh(program, "-t", "filter", "-A", "NETAVARK_DEV", "-j", "NETAVARK_TEST");
  sh(program, "-t", "filter", "-A", "NETAVARK_DEV", "-j", "ACCEPT");
}
restore();
for (const program of ["iptables", "ip6tables"]) {
  assert.deepEqual(
    rules(program).split("\n").filter((l) => l.includes("NETAVARK")),
    ["-N NETAVARK_DEV", "-A FORWARD -j NETAVARK_DEV", "-A NETAVARK_DEV -j ACCEPT"],
    `${program}: only the test's chain and rules are gone`,
  );
}

// nftables (netavark's nftables driver): a table the test made is deleted.
const restoreNew = snapshotNetavarkHost();
sh("nft", "add", "table", "inet", "netavark");
sh("nft", "add", "chain", "inet", "netavark", "nv_test");
restoreNew();
assert.doesNotMatch(sh("nft", "list", "tables"), /inet netavark/, "the test's table is deleted");

// A developer's table: only the chains and rules added since the snapshot go.
sh("nft", "add", "table", "inet", "netavark");
sh(
  "nft",
  "add",
  "chain",
  "inet",
  "netavark",
  "forward",
  "{ type filter hook forward priority 0; }",
);
sh("nft", "add", "chain", "inet", "netavark", "nv_dev");
sh("nft", "add", "rule", "inet", "netavark", "forward", "jump", "nv_dev");
sh("nft", "add", "rule", "inet", "netavark", "nv_dev", "accept");
const restoreDev = snapshotNetavarkHost();
sh("nft", "add", "chain", "inet", "netavark", "nv_test");
sh("nft", "add", "rule", "inet", "netavark", "nv_test", "accept");
sh("nft", "add", "rule", "inet", "netavark", "forward", "jump", "nv_test");
sh("nft", "add", "rule", "inet", "netavark", "nv_dev", "drop");
restoreDev();
const table = sh("nft", "list", "table", "inet", "netavark");
assert.match(table, /chain nv_dev \{\s*accept\s*\}/, `the developer's chain is kept:\n${table}`);
assert.match(table, /jump nv_dev/, `the developer's jump is kept:\n${table}`);
assert.doesNotMatch(table, /nv_test|drop/, `the test's chain and rules are gone:\n${table}`);
console.log("ok");
