/**
 * Serving the package as a registry would: the publish set (the files `deno publish` would
 * upload) copied into a directory and served over http on 127.0.0.1, with the content types
 * JSR gives, a log of every request, and a switch that corrupts the libraries it sends.
 *
 * @module
 */

import { dirname, extname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

const CONTENT_TYPES: Record<string, string> = {
  ".ts": "application/typescript; charset=utf-8",
  ".json": "application/json",
  ".md": "text/markdown",
  ".so": "application/octet-stream",
};

/**
 * The publish set, from `deno publish --dry-run`'s list of files: paths relative to the
 * repository. Throws with the tool's output when the dry run fails or warns.
 */
export async function publishSet(): Promise<string[]> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["publish", "--dry-run", "--allow-dirty"],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  if (!out.success || !text.includes("Dry run complete") || /warning/i.test(text)) {
    throw new Error(`deno publish --dry-run was not clean (exit ${out.code}):\n${text}`);
  }
  const prefix = new URL(".", `file://${ROOT.endsWith("/") ? ROOT : ROOT + "/"}`).href;
  return text.split("\n")
    .map((line) => line.trim().match(/^(file:\/\/\S+) \(/)?.[1])
    .filter((url): url is string => url !== undefined && url.startsWith(prefix))
    .map((url) => decodeURIComponent(url.slice(prefix.length)));
}

/** Copies the files (relative to the repository) into `dir`. */
export async function copyFiles(files: string[], dir: string): Promise<void> {
  for (const file of files) {
    await Deno.mkdir(join(dir, dirname(file)), { recursive: true });
    await Deno.copyFile(join(ROOT, file), join(dir, file));
  }
}

/** A running server of one directory. */
export interface PackageServer {
  /** The base URL, ending in "/". */
  url: string;
  /** `host:port`, as `--allow-import` and `--allow-net` take it. */
  host: string;
  /** Every request so far, as "GET /path". */
  requests: string[];
  /** When true, every `.so` is sent with one byte changed. */
  corruptLibraries: boolean;
  /** Stops the server. */
  close(): Promise<void>;
}

/** Serves the files under `dir` on an ephemeral port of 127.0.0.1. */
export function servePackage(dir: string): PackageServer {
  const state = { corruptLibraries: false, requests: [] as string[] };
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (request) => {
      const path = decodeURIComponent(new URL(request.url).pathname);
      state.requests.push(`${request.method} ${path}`);
      const file = normalize(join(dir, path));
      if (!file.startsWith(dir + "/")) return new Response("outside", { status: 403 });
      let bytes: Uint8Array<ArrayBuffer>;
      try {
        bytes = await Deno.readFile(file);
      } catch {
        return new Response("not found", { status: 404 });
      }
      if (state.corruptLibraries && file.endsWith(".so")) bytes[bytes.length >> 1] ^= 0xff;
      const type = CONTENT_TYPES[extname(file)] ?? "application/octet-stream";
      return new Response(bytes, { headers: { "content-type": type } });
    },
  );
  const host = `127.0.0.1:${server.addr.port}`;
  return {
    url: `http://${host}/`,
    host,
    get requests() {
      return state.requests;
    },
    get corruptLibraries() {
      return state.corruptLibraries;
    },
    set corruptLibraries(value: boolean) {
      state.corruptLibraries = value;
    },
    async close() {
      await server.shutdown();
    },
  };
}
