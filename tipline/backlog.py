"""How many messages wait for a worker: the accept queue of the server's listening sockets.

A tipline's traffic comes in bursts (a hoax goes round; a TV segment shows the number). When
messages queue faster than the workers embed them, the tipline answers new ones by keywords
alone for a moment (the quick search, index.HybridIndex.search(embed=False)) rather than make
everyone wait. The queue is read, not guessed: on Linux, TCP_INFO on a listening socket gives the
connections accepted by the kernel and not yet taken by a worker. gunicorn.conf.py hands this
worker's listening sockets over; elsewhere (Flask's server, other systems) nothing is watched and
the queue reads 0, so every search embeds.
"""
import socket
import struct

TCP_LISTEN = 10  # tcp_info.tcpi_state of a listening socket (include/net/tcp_states.h)
_INFO = struct.Struct("8B6I")  # the start of struct tcp_info: 8 bytes, then rto ... sacked
_UNACKED = 8 + 4  # for a listener, tcpi_unacked is the accept queue's length


class Backlog:
    """The listening sockets of this worker, and how many connections wait on them."""

    def __init__(self):
        self._sockets: list[socket.socket] = []

    def watch(self, sockets) -> int:
        """Watch these listening sockets (TCP ones; others are ignored); give how many."""
        self._sockets = [s for s in sockets
                         if s.family in (socket.AF_INET, socket.AF_INET6) and s.type == socket.SOCK_STREAM]
        return len(self._sockets)

    def waiting(self) -> int:
        """Give the connections waiting for a worker, 0 when nothing can be read."""
        option = getattr(socket, "TCP_INFO", None)
        total = 0
        for sock in self._sockets:
            try:
                info = _INFO.unpack(sock.getsockopt(socket.IPPROTO_TCP, option, _INFO.size))
            except (OSError, TypeError, struct.error):  # closed, not Linux, or a short answer
                continue
            if info[0] == TCP_LISTEN:
                total += info[_UNACKED]
        return total
