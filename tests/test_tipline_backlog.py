"""The queue of messages waiting for a worker, read from a real listening socket; how long a
message in hand waited, read from its real connection."""
import socket
import struct
import time


from tipline.backlog import FRESH, Backlog, arrival


def waits_for(backlog, count):
    deadline = time.monotonic() + 5
    while backlog.waiting() != count and time.monotonic() < deadline:
        time.sleep(0.01)
    return backlog.waiting()


def test_counts_the_connections_no_worker_has_taken(listener):
    backlog = Backlog()
    assert backlog.waiting() == 0  # nothing watched yet
    assert backlog.watch([listener]) == 1 and backlog.waiting() == 0
    clients = [socket.create_connection(listener.getsockname()) for _ in range(5)]
    try:
        assert waits_for(backlog, 5) == 5
        taken, _ = listener.accept()
        taken.close()
        assert waits_for(backlog, 4) == 4
    finally:
        for client in clients:
            client.close()


def test_other_sockets_and_a_closed_one_read_as_nothing_waiting(listener, tmp_path):
    unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    unix.bind(str(tmp_path / "s"))
    unix.listen(1)
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    backlog = Backlog()
    assert backlog.watch([unix, udp, listener]) == 1  # only TCP listeners are read
    client = socket.create_connection(listener.getsockname())
    assert waits_for(backlog, 1) == 1
    listener.close()
    assert backlog.waiting() == 0
    for sock in (client, unix, udp):
        sock.close()


# --- how long the message in hand waited: TCP_INFO on its own connection -----------------------


def taken(listener, send=b"POST /whatsapp HTTP/1.1\r\n\r\n", close=False):
    """Connect a client, send a request, optionally close the client; give (client, server side)."""
    client = socket.create_connection(listener.getsockname())
    client.sendall(send)
    if close:
        client.close()
    server, _ = listener.accept()
    return client, server


def read_until(sock, check):
    """Read a connection's arrival until check(arrival) holds (the kernel's view catches up)."""
    deadline = time.monotonic() + 5
    found = arrival(sock)
    while not check(found) and time.monotonic() < deadline:
        time.sleep(0.01)
        found = arrival(sock)
    return found


def test_a_connection_whose_client_closed_reads_as_gone(listener):
    client, server = taken(listener, close=True)
    try:
        found = read_until(server, lambda a: a.gone)
        assert found.gone and found.late(after=0) and found.late(after=3600)
        assert found.waited is not None and found.waited >= 0
    finally:
        server.close()


def test_a_fresh_connection_is_not_late_and_an_old_one_is(listener):
    client, server = taken(listener)
    try:
        found = arrival(server)
        assert not found.gone and found.waited is not None
        assert not found.late(after=3600) and not found.late(after=0)  # 0: only closed ones
        # Nothing more arrives: the reading grows with the wait, never a guess.
        older = read_until(server, lambda a: a.waited >= 0.3)
        assert not older.gone and older.late(after=0.3) and not older.late(after=3600)
        client.sendall(b"more")  # counted from the request's last bytes: it starts again
        assert read_until(server, lambda a: a.waited < older.waited).waited < older.waited
    finally:
        client.close()
        server.close()


def test_a_client_that_reset_its_connection_reads_as_gone(listener):
    client = socket.create_connection(listener.getsockname())
    client.sendall(b"POST /whatsapp HTTP/1.1\r\n\r\n")
    client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    client.close()  # an RST, not a FIN
    server, _ = listener.accept()
    try:
        assert read_until(server, lambda a: a.gone).gone
    finally:
        server.close()


def test_what_cannot_be_read_counts_as_fresh(listener, tmp_path):
    unix_server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    unix_server.bind(str(tmp_path / "s"))
    unix_server.listen(1)
    unix_client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    unix_client.connect(str(tmp_path / "s"))
    unix_taken, _ = unix_server.accept()
    closed = socket.socket()
    closed.close()
    try:
        # Flask's own server hands no socket; a unix socket, a listener, a closed one: nothing read.
        for sock in (None, unix_taken, listener, closed, "not a socket"):
            assert arrival(sock) == FRESH and not FRESH.late(after=0.001)
    finally:
        for sock in (unix_taken, unix_client, unix_server):
            sock.close()
