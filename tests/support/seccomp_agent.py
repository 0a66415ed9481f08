"""A small seccomp agent, as runc's contrib/cmd/seccompagent is, for the tests: listens
on the unix socket path in argv[1], and for each connection takes the container process
state (JSON, appended as one line to the file in argv[2]) and the notify listener sent with
it (SCM_RIGHTS). Every notified syscall gets the errno in argv[3] (ENOMEDIUM if absent),
except that a process whose state says metadata "continue" has its calls go on."""
import errno
import fcntl
import json
import os
import socket
import struct
import sys
import threading

# _IOWR('!', 0, struct seccomp_notif) and _IOWR('!', 1, struct seccomp_notif_resp).
NOTIF_RECV = 0xC0502100
NOTIF_SEND = 0xC0182101
FLAG_CONTINUE = 1

path, log = sys.argv[1], sys.argv[2]
answer = int(sys.argv[3]) if len(sys.argv) > 3 else errno.ENOMEDIUM


def serve(fd, go_on):
    while True:
        notif = bytearray(80)
        try:
            fcntl.ioctl(fd, NOTIF_RECV, notif)
        except OSError as e:
            if e.errno in (errno.EINTR, errno.ENOENT):
                continue
            return
        notif_id = struct.unpack_from("<Q", notif, 0)[0]
        if go_on:
            resp = struct.pack("<QqiI", notif_id, 0, 0, FLAG_CONTINUE)
        else:
            resp = struct.pack("<QqiI", notif_id, 0, -answer, 0)
        try:
            fcntl.ioctl(fd, NOTIF_SEND, bytearray(resp))
        except OSError:
            pass  # the caller was killed meanwhile


server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
server.bind(path)
server.listen(16)
print("listening", flush=True)
while True:
    conn, _ = server.accept()
    msg, fds, _flags, _addr = socket.recv_fds(conn, 1 << 16, 4)
    conn.close()
    with open(log, "a") as f:
        f.write(json.dumps({"state": msg.decode(), "fds": len(fds)}) + "\n")
    state = json.loads(msg.decode())
    for fd in fds[1:]:
        os.close(fd)
    if fds:
        threading.Thread(
            target=serve, args=(fds[0], state.get("metadata") == "continue"), daemon=True
        ).start()
