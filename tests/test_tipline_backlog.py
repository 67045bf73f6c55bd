"""The queue of messages waiting for a worker, read from a real listening socket."""
import socket
import time

import pytest

from tipline.backlog import Backlog


@pytest.fixture
def listener():
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    yield sock
    sock.close()


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
