/**
 * Network devices a test makes on the host (veth pairs with unique names, through iproute2)
 * and removes after, for `linux.netDevices`.
 *
 * @module
 */

import assert from "node:assert/strict";

/** Runs `ip args...`; throws with its stderr when it fails. */
export function ip(...args: string[]): string {
  const out = new Deno.Command("ip", { args, stdout: "piped", stderr: "piped" }).outputSync();
  const text = new TextDecoder();
  if (!out.success) throw new Error(`ip ${args.join(" ")}: ${text.decode(out.stderr)}`);
  return text.decode(out.stdout);
}

/** Whether the host's network namespace has a link named `name`. */
export function hostHasLink(name: string): boolean {
  return new Deno.Command("ip", { args: ["link", "show", "dev", name], stderr: "null" })
    .outputSync().success;
}

/** A third octet of `net` (10.214.0.0/16 by default) whose /24 no host address or route uses now. */
export function freeTestSubnet(net = "10.214"): number {
  const used = ip("-4", "route", "show", "table", "all") + ip("-4", "addr");
  const start = (Deno.pid * 7) % 250;
  for (let i = 0; i < 250; i++) {
    const octet = 1 + (start + i) % 250;
    if (!used.includes(`${net}.${octet}.`)) return octet;
  }
  throw new Error(`no free /24 in ${net}.0.0/16 for the test`);
}

/** Veth pairs made for one test: `[end, peer]` names, each unique to this process. */
export class TestVeths implements Disposable {
  readonly #made: string[] = [];
  #count = 0;

  /** Makes a veth pair on the host, down; returns its two names (at most 15 bytes each). */
  pair(): [string, string] {
    const base = `cnd${Deno.pid % 1000000}${String.fromCharCode(97 + this.#count++)}`;
    const [end, peer] = [`${base}0`, `${base}1`];
    assert.ok(end.length <= 15);
    ip("link", "add", end, "type", "veth", "peer", "name", peer);
    this.#made.push(end, peer);
    return [end, peer];
  }

  /** Removes whatever of the pairs is still on the host. */
  [Symbol.dispose](): void {
    for (const name of this.#made) {
      if (hostHasLink(name)) {
        new Deno.Command("ip", { args: ["link", "del", name], stderr: "null" }).outputSync();
      }
    }
  }
}
