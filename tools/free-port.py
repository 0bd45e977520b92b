#!/usr/bin/env python3
"""Prints N free TCP+UDP ports on 127.0.0.1 (for demos and tests on loopback)."""
import socket
import sys

ports = []
held = []
while len(ports) < int(sys.argv[1] if len(sys.argv) > 1 else 1):
    t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    t.bind(("127.0.0.1", 0))
    port = t.getsockname()[1]
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        u.bind(("127.0.0.1", port))
    except OSError:
        t.close()
        continue
    held += [t, u]
    ports.append(port)
print(" ".join(map(str, ports)))
