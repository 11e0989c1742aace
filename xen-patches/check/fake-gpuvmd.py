#!/usr/bin/env python3
"""A stand-in for gpuvmd's control socket that records what it is sent.

    fake-gpuvmd.py SOCKET RECORD [--refuse MESSAGE] [--silent]

Appends every request line to RECORD and answers like gpuvmd: attach ->
{"ok":true,"vgpu":{"name":"guest-DOMAIN",...}}, anything else ->
{"ok":true}; with --refuse, {"ok":false,"error":MESSAGE} to everything;
with --silent, closes each connection without answering.  Lines that are
not JSON objects are answered with gpuvmd's error for them.
"""
import json
import os
import socket
import sys


def main():
    args = sys.argv[1:]
    path, record = args[0], args[1]
    refuse = args[args.index("--refuse") + 1] if "--refuse" in args else None
    silent = "--silent" in args
    if os.path.exists(path):
        os.unlink(path)
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(8)
    print("ready", flush=True)
    while True:
        conn, _ = srv.accept()
        with conn:
            buf = b""
            while True:
                data = conn.recv(65536)
                if not data:
                    break
                buf += data
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    with open(record, "ab") as f:
                        f.write(line + b"\n")
                    if silent:
                        break
                    try:
                        req = json.loads(line)
                        if not isinstance(req, dict):
                            raise ValueError
                    except ValueError:
                        reply = {"ok": False, "error": "not valid JSON"}
                    else:
                        if refuse is not None:
                            reply = {"ok": False, "error": refuse}
                        elif req.get("op") == "attach":
                            reply = {"ok": True, "vgpu": {
                                "name": "guest-%s" % req.get("domain"),
                                "id": 1, "mode": req.get("mode", "full"),
                                "attached": True}}
                        else:
                            reply = {"ok": True}
                    conn.sendall(json.dumps(reply).encode() + b"\n")
                if silent:
                    break


if __name__ == "__main__":
    main()
