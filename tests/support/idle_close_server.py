#!/usr/bin/env python3
"""A deliberately awkward HTTP/1.1 server for the load engine's tests.

    idle_close_server.py --port-file FILE [--idle-close-ms 50]

- Every response says `Connection: keep-alive`, but the server closes the connection
  --idle-close-ms after answering (a keep-alive timeout the client does not know about), so the
  client's next request on it meets a closed connection.
- GET /early answers `103 Early Hints` first, then the real `200`.
Each connection is served on its own thread; the port goes to FILE (written, then renamed)."""
import os
import socket
import sys
import threading
import time


def serve(conn, idle_s):
    conn.settimeout(5)
    buf = b""
    try:
        while True:
            while b"\r\n\r\n" not in buf:
                data = conn.recv(65536)
                if not data:
                    return
                buf += data
            head, buf = buf.split(b"\r\n\r\n", 1)
            target = head.split(b" ")[1] if b" " in head else b"/"
            out = b""
            if target == b"/early":
                out += b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
            out += b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: keep-alive\r\n\r\nok\n"
            conn.sendall(out)
            time.sleep(idle_s)
            return  # the "keep-alive" connection is closed behind the client's back
    except OSError:
        return
    finally:
        conn.close()


def main():
    args = sys.argv[1:]
    port_file = args[args.index("--port-file") + 1]
    idle_ms = float(args[args.index("--idle-close-ms") + 1]) if "--idle-close-ms" in args else 50.0
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(128)
    tmp = port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(srv.getsockname()[1]))
    os.rename(tmp, port_file)
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=serve, args=(conn, idle_ms / 1000), daemon=True).start()


if __name__ == "__main__":
    main()
