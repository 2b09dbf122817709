"""A real SMTP server (aiosmtpd) that writes every message it receives to a
directory, one .eml file each, for the tests to read. Not for production."""
import argparse
import asyncio
import os
import time
import uuid

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, maildir: str) -> None:
        self.maildir = maildir

    async def handle_DATA(self, server, session, envelope):
        name = f"{time.time_ns()}-{uuid.uuid4().hex[:8]}.eml"
        tmp = os.path.join(self.maildir, "." + name)
        with open(tmp, "wb") as f:
            f.write(b"X-Envelope-To: " + ", ".join(envelope.rcpt_tos).encode() + b"\r\n")
            f.write(envelope.original_content or envelope.content)
        os.rename(tmp, os.path.join(self.maildir, name))
        return "250 Message accepted for delivery"


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--maildir", required=True)
    a = p.parse_args()
    os.makedirs(a.maildir, exist_ok=True)
    c = Controller(Sink(a.maildir), hostname="127.0.0.1", port=a.port)
    c.start()
    try:
        asyncio.get_event_loop().run_forever()
    except KeyboardInterrupt:
        pass
    finally:
        c.stop()


if __name__ == "__main__":
    main()
