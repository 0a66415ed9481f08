/**
 * Folding an update into the resources a container was created with, so its state
 * says what is in force.
 *
 * @module
 */

import type { Resources } from "../config/types.ts";

/** `old` with every controller the update names replaced field by field. */
export function mergeResources(
  old: Resources | undefined,
  update: Resources,
  given: Resources,
): Resources {
  const out: Resources = { ...old };
  if (given.devices !== undefined) out.devices = update.devices;
  if (update.memory) out.memory = { ...old?.memory, ...update.memory };
  if (update.cpu) out.cpu = { ...old?.cpu, ...update.cpu };
  // Field by field: `pids: {}` is a valid update (1.3) that changes nothing.
  if (update.pids) out.pids = { ...old?.pids, ...update.pids };
  if (update.blockIO) out.blockIO = { ...old?.blockIO, ...update.blockIO };
  if (update.hugepageLimits) out.hugepageLimits = update.hugepageLimits;
  if (update.unified) out.unified = { ...old?.unified, ...update.unified };
  if (update.network) out.network = { ...old?.network, ...update.network };
  if (update.rdma) {
    // Per device, key by key: rdma.max keeps a key the update leaves out.
    const rdma = { ...old?.rdma };
    for (const [device, limit] of Object.entries(update.rdma)) {
      rdma[device] = { ...rdma[device], ...limit };
    }
    out.rdma = rdma;
  }
  return out;
}
