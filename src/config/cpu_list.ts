/**
 * CPU and memory-node lists as the kernel writes them ("0-3,5"): the one pattern that
 * checks them and the one parser that reads them (cpusets, execCPUAffinity, memoryPolicy).
 *
 * @module
 */

/** A list such as "0-3,5" (no spaces). */
export const CPU_LIST = /^\d+(-\d+)?(,\d+(-\d+)?)*$/;

/** The numbers of a list such as "0-3,5", in the order written (at most 65536). */
export function parseCpuList(list: string): number[] {
  const out: number[] = [];
  for (const part of list.trim().split(",")) {
    if (part === "") continue;
    const [a, b] = part.split("-").map(Number);
    for (let n = a; n <= (b ?? a) && out.length < 65536; n++) out.push(n);
  }
  return out;
}
