/**
 * Prepares the guest assets in the VM cache (default /var/cache/cell-vm, or CELL_VM_CACHE):
 * the Debian kernel and the initramfs base layer. Idempotent: what is there and current is
 * kept. `deno task test:vm` does this itself; run it alone to fetch ahead of time.
 *
 * Usage: `deno run -A tools/vm/assets.ts [--refresh-kernel]`
 *
 * @module
 */

import { ensureKernel, type Kernel } from "./kernel.ts";
import { ensureBaseLayer } from "./initramfs.ts";

/** The prepared assets. */
export interface Assets {
  /** The guest kernel. */
  kernel: Kernel;
  /** The initramfs base layer (the repo layer is made for each run). */
  baseLayer: string;
}

/** Fetches the kernel and builds the base layer where missing or stale. */
export async function ensureAssets(options: { refreshKernel?: boolean } = {}): Promise<Assets> {
  const kernel = await ensureKernel({ refresh: options.refreshKernel });
  const baseLayer = await ensureBaseLayer(kernel);
  return { kernel, baseLayer };
}

if (import.meta.main) {
  try {
    const t = performance.now();
    const { kernel, baseLayer } = await ensureAssets({
      refreshKernel: Deno.args.includes("--refresh-kernel"),
    });
    console.log(`kernel ${kernel.release}: ${kernel.image}`);
    console.log(`base layer: ${baseLayer}`);
    console.log(`ready in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  } catch (e) {
    console.error(`vm: ${e instanceof Error ? e.message : e}`);
    Deno.exit(1);
  }
}
