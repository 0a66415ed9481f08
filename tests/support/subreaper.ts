/**
 * A child subreaper, as an engine's conmon or containerd shim is: it runs one command,
 * adopts whatever that command leaves running, and reaps every child (so an adopted process
 * that exits is gone, not a zombie) until it is killed. Optionally it keeps a child of its
 * own, as conmon keeps its container.
 *
 * Usage: deno run -A subreaper.ts <keep-a-child: yes|no> <program> [args...]
 *
 * @module
 */

const PR_SET_CHILD_SUBREAPER = 36;
const WNOHANG = 1;

const libc = Deno.dlopen("libc.so.6", {
  prctl: { parameters: ["i32", "u64", "u64", "u64", "u64"], result: "i32" },
  waitpid: { parameters: ["i32", "buffer", "i32"], result: "i32" },
});
if (libc.symbols.prctl(PR_SET_CHILD_SUBREAPER, 1n, 0n, 0n, 0n) !== 0) {
  throw new Error("prctl(PR_SET_CHILD_SUBREAPER) failed");
}
const [keep, program, ...args] = Deno.args;
if (keep === "yes") new Deno.Command("sleep", { args: ["120"] }).spawn();
const out = await new Deno.Command(program, { args, stdin: "null" }).output();
console.log(JSON.stringify({ code: out.code, stderr: new TextDecoder().decode(out.stderr) }));
const status = new Uint8Array(4);
setInterval(() => {
  while (libc.symbols.waitpid(-1, status, WNOHANG) > 0) { /* reaped one */ }
}, 50);
