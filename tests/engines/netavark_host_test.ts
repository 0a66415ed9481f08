/**
 * The podman network test's host cleanup (tests/support/netavark_host.ts) removes only what
 * appeared after its snapshot: a developer's running podman networks keep their iptables
 * chains and rules and their `inet netavark` nftables table. Checked in a network namespace
 * of its own, so the host's firewall is never touched.
 */

import assert from "node:assert/strict";
import { requirePrograms } from "../support/engines.ts";

Deno.test("netavark host cleanup: only the chains, rules and tables made after the snapshot go", async () => {
  requirePrograms(["unshare", "iptables", "ip6tables", "nft"]);
  const script = new URL("../support/netavark_host_check.ts", import.meta.url).pathname;
  const out = await new Deno.Command("unshare", {
    args: ["-n", Deno.execPath(), "run", "-A", "--no-lock", script],
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(60_000),
  }).output();
  const text = new TextDecoder();
  assert.equal(out.code, 0, text.decode(out.stderr));
  assert.equal(text.decode(out.stdout).trim(), "ok");
});
