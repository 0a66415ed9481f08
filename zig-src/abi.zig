//! The ABI shared with ffi/abi.ts and written down in docs/abi.md. Change all three
//! together and bump `version`; the TypeScript loader refuses a library whose version
//! differs.

pub const version: u32 = 6;

/// "CELL" little-endian: the first word of every plan.
pub const plan_magic: u32 = 0x4C4C4543;

/// Plan operations. Values are part of the ABI.
pub const Op = enum(u32) {
    // How the process is made (read by the parent before the fork).
    clone_flags = 1, // u64 flags: namespaces created by clone
    join_ns = 2, // u64 nstype, str path: setns in a first child, then fork again
    proc_write = 3, // str name, str content: the parent writes /proc/<pid>/<name>
    cgroup_procs = 4, // str path: the parent writes the pid into this cgroup.procs file
    await_fd = 5, // i32 fd: the parent reads one byte, "1" to go on (cgroups made meanwhile)
    clone_into_cgroup = 6, // str path: clone3 with CLONE_INTO_CGROUP into this cgroup v2 dir
    id_map_helper = 7, // str helper, str ranges: the parent runs `helper <pid> <ranges...>` (newuidmap)
    // Setup in the child, in plan order.
    unshare = 10, // u64 flags
    mount = 11, // u32 opflags, u32 msflags, u64 magic, str source, str target, str fstype, str data
    rootfs = 12, // str path: opened as the root for in-root resolution
    mknod = 13, // u32 mode, u32 major, u32 minor, u32 uid, u32 gid, str path (in root)
    symlink = 14, // str target, str path (in root)
    pivot_root = 15,
    move_root = 16,
    sethostname = 17, // str
    setdomainname = 18, // str
    write_file = 19, // str path, str content
    rlimit = 20, // u32 resource, u64 soft, u64 hard
    mask_path = 21, // str path (after the root change)
    readonly_path = 22, // str path (after the root change)
    loopback_up = 23,
    root_readonly = 24, // u32 recursive
    exec_fifo = 25, // i32 fd: the exec fifo opened read-write; one byte is read from it just before exec (blocks until `start`)
    mkdir = 26, // u32 mode, str path (in root)
    become_root = 27, // setresgid(0), setresuid(0): root of a new user namespace
    chroot = 28, // str path: chroot there (a container without a mount namespace of its own)
    // The process (the last values win).
    args = 40, // strlist
    env = 41, // strlist
    cwd = 42, // str
    user = 43, // u32 uid, u32 gid, u32 count, u32 gids[count]
    umask = 44, // u32
    stdio = 45, // i32 fd0, i32 fd1, i32 fd2 (-1 keeps the inherited fd)
    fds = 46, // u32 count, i32 fds[count]: become fds 3, 4, ...
    caps = 47, // u32 last_cap, u64 bounding, effective, permitted, inheritable, ambient
    no_new_privs = 48,
    seccomp = 49, // u32 flags, u32 count, then count 8-byte sock_filter entries
    no_setgroups = 50, // setgroups is denied in this user namespace: keep the groups
    exec_label = 51, // u32 lsm (1 AppArmor, 2 SELinux), str content for /proc/thread-self/attr/.../exec
    console_socket = 52, // i32 fd: a connected unix socket; a new pty's master goes to it, the slave is the stdio
    console_size = 53, // u32 rows, u32 columns: the new pty's window size (TIOCSWINSZ)
    own_memory = 61, // the child is forked (never CLONE_VM): it may wait in a memory cgroup that can OOM-kill
    io_priority = 62, // u32 class (1 RT, 2 BE, 3 IDLE), u32 level 0-7: ioprio_set before the exec
    personality = 63, // u32 persona (PER_LINUX 0, PER_LINUX32 8): personality(2) before the exec
    cpu_affinity = 65, // u32 final (0: initial, before the cgroup placement; 1: before the exec), u32 count, u32 cpus[count]
    time_ns = 67, // str offsets: a first child unshares CLONE_NEWTIME, writes the offsets ("<clock> <secs> <nanosecs>" lines, may be empty) to its /proc/self/timens_offsets, then clones the process, which is the first to enter it
    memory_policy = 66, // u32 mode | flags, u32 count, u32 nodes[count]: set_mempolicy before the exec
    scheduler = 64, // u32 policy, i32 nice, u32 priority, u32 pad, u64 flags, runtime, deadline, period: sched_setattr before the exec
    hooks_pause = 58, // i32 notify fd, i32 resume fd: the child stops; the parent writes its pid to notify, waits for "1" on resume
    hook = 59, // u32 kind (1 createContainer, 2 startContainer), u32 index, u32 timeout s, str path, strlist args, env, state pieces
    hook_report = 60, // i32 fd: where a failed startContainer hook's record goes (a fifo the caller opened read-write)
    seccomp_listener = 57, // i32 socket, strlist pieces: the state joined by our host pid goes to the agent with the listener fd
    mount_source = 56, // str path: the parent opens it through /proc/<pid>/root and sends the fd (mount opflag 64 takes the next)
    hide_mount = 55, // str path: made slave and detached (covered with a tmpfs where that is refused); missing is fine
    mount_setattr = 54, // u32 opflags, u32 recursive, u64 attr_set, u64 attr_clr, str target (in root)
    tmpfs_copyup = 70, // u32 msflags, str target, str data: a tmpfs over target (in root) holding a copy of what it held
    idmap_source = 71, // u32 recursive tree, u32 recursive map, str source, str uid map, str gid map: the parent sends an id-mapped clone (mount opflag 64|256 takes it)
    _,
};

/// opflags of a mount op.
pub const mount_in_root: u32 = 1; // target is resolved inside the rootfs
pub const mount_mkdir: u32 = 2; // create the target (and parents) as a directory
pub const mount_mkfile: u32 = 4; // create the target as an empty file
pub const mount_no_symlinks: u32 = 8; // refuse a target reached through any symlink
pub const mount_source_in_root: u32 = 16; // bind source is a path inside the rootfs
pub const mount_keep_locked: u32 = 32; // a remount keeps the flags the mount has (locked in a user ns)
pub const mount_source_fd: u32 = 64; // the bind source is the next fd the parent sent (mount_source ops)
pub const mount_replace_link: u32 = 128; // a symlink at the target's last component is replaced, never followed (device binds)
pub const mount_move_tree: u32 = 256; // with mount_source_fd: the fd is a detached tree (idmap_source), moved onto the target

pub const RecordKind = enum(u32) { err = 1, pid = 2, ready = 3, hooks = 4 };

/// What a child sends to the parent through the report pipe; one atomic write.
pub const Record = extern struct {
    kind: u32,
    errno: i32,
    pid: i32,
    op_index: i32, // -1 when the failure is not tied to one op
    syscall: [32]u8,
    path: [208]u8,
};

/// Written by cell_spawn into the caller's buffer.
pub const SpawnResult = extern struct {
    status: u32, // spawn_ok, spawn_child_error or spawn_parent_error
    pid: i32,
    pidfd: i32,
    reserved: u32,
    record: Record,
};

pub const spawn_ok: u32 = 0;
pub const spawn_child_error: u32 = 1;
pub const spawn_parent_error: u32 = 2;

comptime {
    if (@sizeOf(Record) != 256) @compileError("Record must be 256 bytes");
    if (@sizeOf(SpawnResult) != 272) @compileError("SpawnResult must be 272 bytes");
}
