/**
 * What netavark (podman's network backend) changes on the host and leaves behind after its
 * last container is gone: `net.ipv4.ip_forward` turned on, its iptables chains (NETAVARK_*)
 * with the rules that jump to them (or, with its nftables driver, chains and rules in
 * `table inet netavark`), and podman's IP allocation db in /run/containers/networks. A test
 * takes a snapshot before and puts back after only what appeared since.
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

/** The iptables programs and tables netavark's iptables driver writes to. */
const IPTABLES = ["iptables", "ip6tables"].flatMap((program) =>
  ["nat", "filter", "mangle"].map((table) => ({ program, table }))
);

/** The lines of `<program> -t <table> -S` (chains and rules), empty when it cannot run. */
function iptablesLines(program: string, table: string): string[] {
  return run(program, ["-t", table, "-S"]).out.split("\n").filter((l) => l !== "");
}

/** Whether an `iptables -S` rule is netavark's: in one of its chains or jumping to one. */
function netavarkRule(rule: string): boolean {
  return rule.startsWith("-A NETAVARK") || / -[jg] NETAVARK/.test(rule);
}

/**
 * Removes the NETAVARK chains and rules `table` has now and had not in `before` (a multiset:
 * a rule added twice is removed once per copy added); a developer's podman networks stay.
 */
function removeNewNetavarkRules(program: string, table: string, before: string[]): void {
  const left = new Map<string, number>();
  for (const line of before) left.set(line, (left.get(line) ?? 0) + 1);
  const added: string[] = [];
  for (const line of iptablesLines(program, table)) {
    const n = left.get(line) ?? 0;
    if (n > 0) left.set(line, n - 1);
    else added.push(line);
  }
  const chains = added.filter((l) => l.startsWith("-N NETAVARK")).map((l) => l.slice(3));
  const inNewChain = (rule: string) => chains.includes(words(rule)[1]);
  for (const rule of added) {
    if (rule.startsWith("-A ") && netavarkRule(rule) && !inNewChain(rule)) {
      run(program, ["-t", table, "-D", ...words(rule).slice(1)]);
    }
  }
  for (const chain of chains) run(program, ["-t", table, "-F", chain]);
  for (const chain of chains) run(program, ["-t", table, "-X", chain]);
}

/** The family and name of netavark's nftables driver's table. */
const NFT_TABLE = ["inet", "netavark"];

/** The chains of netavark's nftables table and the handles of its rules, or null when absent. */
function nftNetavark(): { chains: Set<string>; rules: { chain: string; handle: string }[] } | null {
  const listed = run("nft", ["-a", "list", "table", ...NFT_TABLE]);
  if (!listed.ok) return null;
  const chains = new Set<string>();
  const rules: { chain: string; handle: string }[] = [];
  let chain = "";
  for (const line of listed.out.split("\n").map((l) => l.trim())) {
    const opened = line.match(/^chain (\S+) \{/);
    if (opened) {
      chain = opened[1];
      chains.add(chain);
      continue;
    }
    const rule = line.match(/# handle (\d+)$/);
    if (rule && chain !== "" && !/^(table|set|map) /.test(line)) {
      rules.push({ chain, handle: rule[1] });
    }
    if (line === "}") chain = "";
  }
  return { chains, rules };
}

/**
 * Puts netavark's nftables table back as `before` had it: deleted when the test made it;
 * otherwise the rules (by handle, never reused in a table) and chains added since removed.
 */
function removeNewNftRules(before: ReturnType<typeof nftNetavark>): void {
  const now = nftNetavark();
  if (!now) return;
  if (!before) {
    run("nft", ["delete", "table", ...NFT_TABLE]);
    return;
  }
  const oldHandles = new Set(before.rules.map((r) => r.handle));
  const newChains = [...now.chains].filter((c) => !before.chains.has(c));
  for (const { chain, handle } of now.rules) {
    if (!oldHandles.has(handle) && before.chains.has(chain)) {
      run("nft", ["delete", "rule", ...NFT_TABLE, chain, "handle", handle]);
    }
  }
  for (const chain of newChains) run("nft", ["flush", "chain", ...NFT_TABLE, chain]);
  for (const chain of newChains) run("nft", ["delete", "chain", ...NFT_TABLE, chain]);
}

/**
 * Takes a snapshot of what netavark changes; the function returned puts the host back:
 * ip_forward as it was, the NETAVARK iptables chains and rules made since removed, so is
 * what was added to netavark's nftables table (`inet netavark`, deleted when it is new), the
 * nftables tables iptables made deleted when they did not exist before and hold no rule now,
 * the IP allocation db removed when the test made it. What existed before (a developer's
 * podman networks) is left as it is.
 */
export function snapshotNetavarkHost(): () => void {
  const forward = Deno.readTextFileSync(FORWARD).trim();
  const tables = nftTables();
  const iptables = IPTABLES.map(({ program, table }) => iptablesLines(program, table));
  const nft = nftNetavark();
  const runDir = exists(RUN_DIR);
  const ipamDb = exists(IPAM_DB);
  return () => {
    // podman's IP allocation db: removed when the test made it (a db that was there is
    // someone's, kept; the test's network leaves only an empty entry in it).
    if (!runDir && exists(RUN_DIR)) Deno.removeSync(RUN_DIR, { recursive: true });
    else if (!ipamDb && exists(IPAM_DB)) Deno.removeSync(IPAM_DB);
    IPTABLES.forEach(({ program, table }, i) =>
      removeNewNetavarkRules(program, table, iptables[i])
    );
    removeNewNftRules(nft);
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
