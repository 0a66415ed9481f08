/**
 * Manual check of the peer helpers: builds a busybox bundle in a temporary directory, checks
 * that runc and crun both run `sh -c 'echo hi; hostname'` in it as expected, then times 20
 * runs of `true` with each and prints the summaries.
 *
 * Run as root: `deno run -A bench/peers_check.ts`
 *
 * @module
 */

import { join } from "node:path";
import { bundle } from "../tests/support/rootfs.ts";
import { peerBundleConfig, type PeerRuntime, preparePeers, summarize, timePeer } from "./peers.ts";

const RUNTIMES: PeerRuntime[] = ["runc", "crun"];
const RUNS = 20;
const WARMUP = 2;

/** Runs `sh -c 'echo hi; hostname'` with `runtime` and throws unless it prints "hi\npeer\n". */
async function checkOutput(runtime: PeerRuntime, bundleDir: string): Promise<void> {
  const stateRoot = await Deno.makeTempDir({ prefix: `cell-${runtime}-check-` });
  try {
    const id = `cell-check-${runtime}-${crypto.randomUUID().slice(0, 8)}`;
    const out = await new Deno.Command(runtime, {
      args: ["--root", stateRoot, "run", "--bundle", bundleDir, id],
      stdin: "null",
    }).output();
    const stdout = new TextDecoder().decode(out.stdout);
    const stderr = new TextDecoder().decode(out.stderr);
    if (out.code !== 0 || stdout !== "hi\npeer\n") {
      throw new Error(
        `${runtime}: exit ${out.code}, stdout ${JSON.stringify(stdout)}, ` +
          `stderr ${JSON.stringify(stderr)}`,
      );
    }
    console.log(`${runtime}: sh -c 'echo hi; hostname' printed ${JSON.stringify(stdout)}`);
  } finally {
    await Deno.remove(stateRoot, { recursive: true });
  }
}

async function main(): Promise<void> {
  const restoreHost = await preparePeers();
  const dir = await Deno.makeTempDir({ prefix: "cell-peers-check-" });
  try {
    const bundleDir = join(dir, "bundle");
    await bundle(bundleDir, peerBundleConfig("rootfs", ["sh", "-c", "echo hi; hostname"]));
    for (const runtime of RUNTIMES) await checkOutput(runtime, bundleDir);

    await bundle(bundleDir, peerBundleConfig("rootfs", ["true"]));
    for (const runtime of RUNTIMES) {
      await timePeer(runtime, bundleDir, WARMUP);
      const s = summarize(await timePeer(runtime, bundleDir, RUNS));
      console.log(
        `${runtime} run true x${RUNS}: median ${s.median.toFixed(1)} ms, ` +
          `p10 ${s.p10.toFixed(1)}, p90 ${s.p90.toFixed(1)}, mean ${s.mean.toFixed(1)}`,
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
    await restoreHost();
  }
}

if (import.meta.main) await main();
