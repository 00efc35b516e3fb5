"""integration: the local HTTP server queues a burst of 50 connections it has not accepted yet.

socketserver's default listen backlog is 5: past it, the kernel drops (Linux) or resets (macOS) the
connections it cannot queue, which a fuzzer's 50 concurrent posts saw as resets. Nothing accepts
here, so every connection that completes was queued by the backlog alone."""

from __future__ import annotations

import socket

from ecrm_local.server import LocalServer

CLIENTS = 50


def test_fifty_connections_wait_in_the_backlog_without_a_reset_or_a_drop():
    server = LocalServer(("127.0.0.1", 0))
    clients: list[socket.socket] = []
    failures: list[OSError] = []
    try:
        for _ in range(CLIENTS):
            client = socket.socket()
            client.settimeout(2)
            clients.append(client)
            try:
                client.connect(server.server_address[:2])
            except OSError as exc:  # ConnectionResetError, or a timeout for a dropped handshake
                failures.append(exc)
    finally:
        for client in clients:
            client.close()
        server.server_close()
    assert failures == []
