/**
 * The host-side network work of one init's start, while the init is paused: the `network`
 * option's links and the `linux.netDevices` moves. Each is recorded in the state as it is
 * made (so a destroy after a SIGKILL finds it), and a failed start undoes them.
 *
 * @module
 */

import { ContainerError } from "../errors.ts";
import { faultPoint } from "../fault_point.ts";
import { moveNetDevices } from "../network/net_devices.ts";
import { moveNetDevicesBack } from "../network/net_devices_undo.ts";
import type { NetworkRecord } from "../network/options.ts";
import { setupNetwork } from "../network/setup.ts";
import { ownNetns, teardownNetwork } from "../network/teardown.ts";
import { identify } from "../state/identity.ts";
import type { ContainerState } from "../state/store.ts";
import { close, O, open } from "../syscalls.ts";
import type { ContainerCore } from "./core.ts";

/** One start's network: set up during the pause, kept or undone after. */
export class InitNetwork {
  readonly #core: ContainerCore;
  readonly #intent: ContainerState;
  readonly #record: NetworkRecord = { veths: [], bridges: [] };
  // The container's network namespace, held from the netDevices moves until the start is
  // over: a failure moves the devices back while it still lives (the init may be gone).
  #devicesNetns = -1;

  /** `intent` is the state the start recorded before making anything. */
  constructor(core: ContainerCore, intent: ContainerState) {
    this.#core = core;
    this.#intent = intent;
  }

  /** Makes the option's links and moves the config's devices, for the paused init `pid`. */
  setUp(pid: number): void {
    const network = this.#intent.network;
    const devices = this.#core.config.linux?.netDevices;
    if (!network && !devices) return; // a pause for hooks only: nothing to make or stat
    // Which namespace is the host's, read only when something will be made in it.
    this.#record.hostNetns = ownNetns();
    const record = (made: NetworkRecord) =>
      this.#core.write({ ...this.#intent, networkMade: structuredClone(made) });
    if (network) setupNetwork(network, pid, this.#record, record);
    if (!devices) return;
    this.#devicesNetns = open(`/proc/${pid}/ns/net`, O.RDONLY);
    const init = identify(pid);
    if (!init) throw new ContainerError("SystemError", `the init ${pid} vanished`);
    moveNetDevices(devices, this.#devicesNetns, (moved) => {
      this.#record.movedDevices = { init, devices: moved };
      record(this.#record);
    });
    faultPoint("start:netDevices");
  }

  /** What the state keeps after a good start: the links (moved devices are the container's). */
  kept(): NetworkRecord | undefined {
    const { veths, bridges, unmarkedBridges, unmarkedBridgeIndexes, hostNetns } = this.#record;
    if (veths.length === 0 && bridges.length === 0) return undefined;
    return { veths, bridges, unmarkedBridges, unmarkedBridgeIndexes, hostNetns };
  }

  /**
   * After a failed start: the devices go back to the host, the links are removed. Returns
   * what could not be removed, for the state to keep so destroy tries again.
   */
  undo(): NetworkRecord | undefined {
    const record = this.#record;
    if (record.movedDevices && this.#devicesNetns >= 0) {
      try {
        moveNetDevicesBack(record.movedDevices.devices, this.#devicesNetns, record.hostNetns);
      } catch (e) {
        console.warn(`cell: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    record.movedDevices = undefined;
    try {
      teardownNetwork(record);
      return undefined;
    } catch {
      return record;
    }
  }

  /** Lets go of the container's network namespace. */
  close(): void {
    close(this.#devicesNetns);
    this.#devicesNetns = -1;
  }
}
