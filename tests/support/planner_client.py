#!/usr/bin/env python3
"""A caller of the planner's socket speaking its HELLO (docs/architecture.md, "The resident
planner"), for the test that another uid is sent back: prints what the planner answered."""
import errno
import os
import socket
import struct
import sys


def strlist(items):
    out = struct.pack("<I", len(items))
    for item in items:
        data = item.encode()
        out += struct.pack("<I", len(data)) + data
    return out


def main():
    path = sys.argv[1]
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(path)
    except OSError as e:
        print("connect: " + (errno.errorcode.get(e.errno, str(e.errno))))
        return
    body = strlist(["cell-planner/1", sys.argv[2] if len(sys.argv) > 2 else "", "/"])
    body += strlist(["list"]) + strlist([]) + strlist(["cell"])
    header = struct.pack("<II", len(body), 1)
    sock.sendmsg([header + body], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, struct.pack("<3i", 0, 1, 2))])
    head = b""
    while len(head) < 8:
        chunk = sock.recv(8 - len(head))
        if not chunk:
            print("EOF")
            return
        head += chunk
    length, kind = struct.unpack("<II", head)
    data = b""
    while len(data) < length:
        chunk = sock.recv(length - len(data))
        if not chunk:
            break
        data += chunk
    names = {10: "ACCEPTED", 15: "FALLBACK"}
    print(names.get(kind, str(kind)) + " " + data.decode(errors="replace"))
    os.close(sock.detach())


main()
