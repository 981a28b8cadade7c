"""An SMTP server on loopback, in a process of its own, that accepts and counts messages.

    python -m tests.bench.smtp_sink PORT [--stock]

The benchmarks hand mail to it as production hands mail to its relay, so sending is measured
over real SMTP; being a separate process, it never competes with the sender for the GIL. On
SIGTERM it prints one JSON line: messages, distinct recipients, the most any one recipient got,
bytes received, and the CPU seconds it spent since it said "ready".

aiosmtpd reads a message's DATA a line at a time, which for a 100 KB digest costs this process
about 4 ms of CPU, more than the tracker spends sending it, and on a 2-core machine that CPU is
taken from the sender: a relay in production (Postfix, Mailpit) reads it in blocks. So by
default DATA is read in blocks here too (the rest of the SMTP dialogue is aiosmtpd's); --stock
keeps aiosmtpd's own reading.
"""

import asyncio
import json
import signal
import sys
import threading
import time
from collections import Counter

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import MISSING, SMTP

END_OF_DATA = b"\r\n.\r\n"


class CountingSink:
    def __init__(self) -> None:
        self.recipients: Counter[str] = Counter()
        self.messages = 0
        self.size = 0

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:  # noqa: N802
        self.messages += 1
        self.size += len(envelope.content)  # type: ignore[attr-defined]
        self.recipients.update(envelope.rcpt_tos)  # type: ignore[attr-defined]
        return "250 OK"

    def summary(self) -> dict[str, float]:
        return {
            "messages": self.messages,
            "recipients": len(self.recipients),
            "most_to_one": max(self.recipients.values(), default=0),
            "bytes": self.size,
        }


class BlockReadingSMTP(SMTP):
    """aiosmtpd's server, reading DATA in blocks up to the lone dot (RFC 5321, 4.5.2)."""

    async def smtp_DATA(self, arg: str) -> None:  # noqa: N802
        if not self.envelope or not self.envelope.rcpt_tos or arg:
            await super().smtp_DATA(arg)  # its own error replies
            return
        await self.push("354 End data with <CR><LF>.<CR><LF>")
        received = bytearray(b"\r\n")  # so a message of one line ends like any other
        while not received.endswith(END_OF_DATA):
            try:
                block = await self._reader.read(1 << 16)
            except asyncio.CancelledError:
                self._writer.close()
                raise
            if not block:
                return
            received += block
        # Undo the client's dot-stuffing; the leading CRLF makes the first line like the rest.
        content = bytes(received[: -len(END_OF_DATA)]).replace(b"\r\n..", b"\r\n.")[2:] + b"\r\n"
        self.envelope.content = self.envelope.original_content = content
        status = await self._call_handler_hook("DATA")
        self._set_post_data_state()
        await self.push("250 OK" if status is MISSING else status)


class BlockReadingController(Controller):
    def factory(self) -> SMTP:
        return BlockReadingSMTP(self.handler, **self.SMTP_kwargs)


def main() -> None:
    sink = CountingSink()
    kind = Controller if "--stock" in sys.argv else BlockReadingController
    controller = kind(sink, hostname="127.0.0.1", port=int(sys.argv[1]))
    controller.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    ready_at = time.process_time()
    print("ready", flush=True)
    stop.wait()
    controller.stop()
    print(json.dumps(sink.summary() | {"cpu": time.process_time() - ready_at}), flush=True)


if __name__ == "__main__":
    main()
