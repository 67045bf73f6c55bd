"""How many messages wait for a worker (the accept queue of the server's listening sockets), and
how long the one in hand waited (its own connection).

A tipline's traffic comes in bursts (a hoax goes round; a TV segment shows the number). When
messages queue faster than the workers embed them, the tipline answers new ones by keywords
alone for a moment (the quick search, index.HybridIndex.search(embed=False)) rather than make
everyone wait. The queue is read, not guessed: on Linux, TCP_INFO on a listening socket gives the
connections accepted by the kernel and not yet taken by a worker. gunicorn.conf.py hands this
worker's listening sockets over; elsewhere (Flask's server, other systems) nothing is watched and
the queue reads 0, so every search embeds.

A message that waited in that queue past Twilio's webhook timeout (15 s) is answered to nobody:
Twilio gave up on it (error 11200). TCP_INFO on the connection a worker took tells that too
(`arrival`): `tcpi_last_data_recv` is how long ago the request's last bytes arrived, and a
connection in CLOSE_WAIT (or reset) is one whose client already closed. gunicorn hands the
connection to the app as `environ["gunicorn.socket"]`; elsewhere nothing is read and every
message counts as fresh.
"""
import socket
import struct
from dataclasses import dataclass

# tcp_info.tcpi_state (include/net/tcp_states.h; the same numbers in <netinet/tcp.h>)
TCP_CLOSE = 7  # reset by the client
TCP_CLOSE_WAIT = 8  # the client sent its FIN: it closed its side and reads no answer
TCP_LISTEN = 10
# The start of struct tcp_info (include/uapi/linux/tcp.h): 8 one-byte fields, then 32-bit ones
# from tcpi_rto: rto ato snd_mss rcv_mss unacked sacked lost retrans fackets last_data_sent
# last_ack_sent last_data_recv.
_INFO = struct.Struct("8B12I")
_UNACKED = 8 + 4  # for a listener, tcpi_unacked is the accept queue's length
_LAST_DATA_RECV = 8 + 11  # ms since the connection last received data (jiffies: a few ms steps)
GONE = (TCP_CLOSE, TCP_CLOSE_WAIT)


def _tcp_info(sock):
    """Give the start of a TCP socket's tcp_info as a tuple, or None where it cannot be read."""
    option = getattr(socket, "TCP_INFO", None)
    if option is None or sock is None:
        return None
    try:
        return _INFO.unpack(sock.getsockopt(socket.IPPROTO_TCP, option, _INFO.size))
    except (OSError, TypeError, ValueError, AttributeError, struct.error):
        return None  # closed, not TCP, not a socket, or a kernel that answers shorter


@dataclass(frozen=True)
class Arrival:
    """How a message's connection stood when a worker took it up."""

    waited: float | None = None  # seconds since its last bytes arrived; None: not readable
    gone: bool = False  # its client closed the connection already: the reply reaches nobody

    def late(self, after: float) -> bool:
        """Say whether the asker no longer waits for this reply: gone, or waited `after` s or more
        (0: only a closed connection is late)."""
        return self.gone or (after > 0 and self.waited is not None and self.waited >= after)


FRESH = Arrival()  # what a connection that cannot be read counts as


def arrival(sock) -> Arrival:
    """Read how long ago a connection's request arrived and whether its client is still there."""
    info = _tcp_info(sock)
    if info is None or info[0] == TCP_LISTEN:
        return FRESH
    return Arrival(info[_LAST_DATA_RECV] / 1000, info[0] in GONE)


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
        total = 0
        for sock in self._sockets:
            info = _tcp_info(sock)  # None: closed, not Linux, or a short answer
            if info is not None and info[0] == TCP_LISTEN:
                total += info[_UNACKED]
        return total
