/**
 * Whether the init stops in its pause (op `hooks_pause`) before its root change: the runtime
 * then does its work on the live namespaces (the network option, `linux.netDevices`, the
 * prestart and createRuntime hooks) and lets it go on.
 *
 * @module
 */

import type { Spec } from "../config/types.ts";
import type { NetworkOptions } from "../network/options.ts";
import { hasNetworkSetup } from "../network/setup.ts";
import { hasRuntimeHooks } from "./lifecycle_hooks.ts";

/**
 * Whether the init must stop for the runtime: hooks to run, a network to set up, or host
 * devices to move in (`linux.netDevices`).
 */
export function needsPause(config: Spec, network: NetworkOptions | undefined): boolean {
  return hasRuntimeHooks(config) || hasNetworkSetup(network) ||
    config.linux?.netDevices !== undefined;
}
