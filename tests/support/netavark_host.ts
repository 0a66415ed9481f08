/**
 * What netavark (podman's network backend) changes on the host and leaves behind after its
 * last container is gone: `net.ipv4.ip_forward` turned on, its iptables chains (NETAVARK_*)
 * with the rules that jump to them, and podman's IP allocation db in /run/containers/networks.
 * A test takes a snapshot before and puts the host back with it after.
 *
 * @module
 */

import { exists } from "./fixture.ts";

const FORWARD = "/proc/sys/net/ipv4/ip_forward";
/** Where podman keeps netavark's IP allocations as root (fixed: no setting moves it). */
const RUN_DIR = "/run/containers/networks";
const IPAM_DB = `${RUN_DIR}/ipam.db`;

/** Where Debian and Fedora install podman's network helpers. */
const HELPER_DIRS = ["/usr/lib/podman", "/usr/libexec/podman", "/usr/local/libexec/podman"];

/** Fails with what to install when netavark is missing. */
export function requireNetavark(): void {
  const found = HELPER_DIRS.some((dir) => {
    try {
      return Deno.statSync(`${dir}/netavark`).isFile;
    } catch {
      return false;
    }
  });
  if (!found) {
    throw new Error(
      "netavark missing: install podman's network backend with sudo tools/setup.sh --with-engines",
    );
  }
}

function run(program: string, args: string[]): { ok: boolean; out: string } {
  try {
    const out = new Deno.Command(program, { args, stdout: "piped", stderr: "null" }).outputSync();
    return { ok: out.success, out: new TextDecoder().decode(out.stdout) };
  } catch {
    return { ok: false, out: "" };
  }
}

/** The nftables tables now (iptables-nft makes one per iptables table it touches). */
function nftTables(): Set<string> {
  return new Set(run("nft", ["list", "tables"]).out.split("\n").filter((l) => l.trim() !== ""));
}

/** The words of one `iptables -S` line, "quoted" ones (comments) kept whole. */
function words(rule: string): string[] {
  return [...rule.matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)].map((m) => m[2] ?? m[1]);
}

/** Removes every NETAVARK chain of `table` and the rules that jump to them. */
function removeNetavarkChains(table: string): void {
  const rules = run("iptables", ["-t", table, "-S"]).out.split("\n");
  for (const rule of rules) {
    if (rule.startsWith("-A ") && / -j NETAVARK/.test(rule) && !rule.startsWith("-A NETAVARK")) {
      run("iptables", ["-t", table, "-D", ...words(rule).slice(1)]);
    }
  }
  const chains = rules.filter((r) => r.startsWith("-N NETAVARK")).map((r) => r.slice(3));
  for (const chain of chains) run("iptables", ["-t", table, "-F", chain]);
  for (const chain of chains) run("iptables", ["-t", table, "-X", chain]);
}

/**
 * Takes a snapshot of what netavark changes; the function returned puts the host back:
 * ip_forward as it was, netavark's chains removed, the nftables tables iptables made for
 * them deleted when they did not exist before and hold no rule now, the IP allocation db
 * removed when the test made it.
 */
export function snapshotNetavarkHost(): () => void {
  const forward = Deno.readTextFileSync(FORWARD).trim();
  const tables = nftTables();
  const runDir = exists(RUN_DIR);
  const ipamDb = exists(IPAM_DB);
  return () => {
    // podman's IP allocation db: removed when the test made it (a db that was there is
    // someone's, kept; the test's network leaves only an empty entry in it).
    if (!runDir && exists(RUN_DIR)) Deno.removeSync(RUN_DIR, { recursive: true });
    else if (!ipamDb && exists(IPAM_DB)) Deno.removeSync(IPAM_DB);
    for (const table of ["nat", "filter", "mangle"]) removeNetavarkChains(table);
    for (const table of nftTables()) {
      if (tables.has(table) || !/^table ip6? /.test(table)) continue;
      const [, family, name] = table.split(" ");
      const lines = run("nft", ["list", "table", family, name]).out.split("\n")
        .map((l) => l.trim()).filter((l) => l !== "");
      // Only empty base chains left (no rule of anyone's): the table is ours to delete.
      const empty = lines.every((l) => /^(table |chain |type |policy |})/.test(l));
      if (empty) run("nft", ["delete", "table", family, name]);
    }
    if (Deno.readTextFileSync(FORWARD).trim() !== forward) Deno.writeTextFileSync(FORWARD, forward);
  };
}
