/**
 * Finding host programs the runtime runs itself (newuidmap, nsenter).
 *
 * @module
 */

/** Whether `path` is a regular file someone may execute. */
export function isExecutable(path: string): boolean {
  try {
    const info = Deno.statSync(path);
    return info.isFile && ((info.mode ?? 0) & 0o111) !== 0;
  } catch {
    return false;
  }
}
