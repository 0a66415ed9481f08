"""The other end of --console-socket, as conmon or containerd's shim is: listens on the
path in argv[1], accepts one connection, takes the pty master sent with SCM_RIGHTS, prints
the name sent with it on the first line, then everything read from the master until the
terminal closes."""
import os
import socket
import sys

path = sys.argv[1]
server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
server.bind(path)
server.listen(1)
print("listening", flush=True)
conn, _ = server.accept()
msg, fds, _flags, _addr = socket.recv_fds(conn, 1024, 4)
print(msg.decode(), len(fds), flush=True)
out = b""
while True:
    try:
        data = os.read(fds[0], 4096)
    except OSError:
        break
    if not data:
        break
    out += data
sys.stdout.write(out.decode(errors="replace"))
