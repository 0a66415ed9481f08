/**
 * A failed hook in runc's words, which engines and runc's tests look for:
 * `error running hook #<index> (<kind> <path>): <what happened>`. Shared by the hooks the
 * runtime runs itself and those the container's init runs (reported by op index).
 *
 * @module
 */

/** `hook #<index> (<kind> <path>)`: the hook's name in messages and plan descriptions. */
export function hookLabel(kind: string, index: number, path: string): string {
  return `hook #${index} (${kind} ${path})`;
}

/** `error running <label>: <detail>`. */
export function hookFailureText(label: string, detail: string): string {
  return `error running ${label}: ${detail}`;
}
