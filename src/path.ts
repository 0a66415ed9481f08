/**
 * POSIX path helpers (join, resolve, dirname, normalize, isAbsolute). Ours rather than
 * `node:path`, whose compatibility layer costs a CLI start milliseconds to load.
 *
 * @module
 */

/** Whether `path` starts at `/`. */
export function isAbsolute(path: string): boolean {
  return path.startsWith("/");
}

/** Collapses `//`, `.` and `..` (never above `/` for an absolute path); "." when empty. */
export function normalize(path: string): string {
  const absolute = isAbsolute(path);
  const out: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (out.length > 0 && out[out.length - 1] !== "..") out.pop();
      else if (!absolute) out.push("..");
      continue;
    }
    out.push(part);
  }
  const body = out.join("/");
  const trailing = path.length > 1 && path.endsWith("/") && body !== "" ? "/" : "";
  if (absolute) return `/${body}${trailing}`;
  return body === "" ? "." : body + trailing;
}

/** The parts joined with `/` and normalized. */
export function join(...parts: string[]): string {
  const joined = parts.filter((p) => p !== "").join("/");
  return joined === "" ? "." : normalize(joined);
}

/** An absolute path: the parts from the last absolute one, from the cwd otherwise. */
export function resolve(...parts: string[]): string {
  let path = "";
  for (let i = parts.length - 1; i >= 0 && !isAbsolute(path); i--) {
    if (parts[i] !== "") path = path === "" ? parts[i] : `${parts[i]}/${path}`;
  }
  if (!isAbsolute(path)) path = `${Deno.cwd()}/${path}`;
  const clean = normalize(path);
  return clean.length > 1 && clean.endsWith("/") ? clean.slice(0, -1) : clean;
}

/** The directory part: `/a/b` → `/a`, `/a` → `/`, `a` → `.`. */
export function dirname(path: string): string {
  const trimmed = path.length > 1 ? path.replace(/\/+$/, "") : path;
  const slash = trimmed.lastIndexOf("/");
  if (slash < 0) return ".";
  if (slash === 0) return "/";
  return trimmed.slice(0, slash);
}
