#!/usr/bin/python3
"""The test SMTP receiver (tests/servers/smtp_receiver.py, without TLS or
AUTH) on a chosen port, so that the soak can stop it and start it again
where the daemon expects it.

    smtp_port.py --log FILE [--port N]

Prints "PORT <n>" once it listens on 127.0.0.1. Needs python3-aiosmtpd.
"""
import argparse
import asyncio
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "servers"))
from aiosmtpd.smtp import SMTP  # noqa: E402
import smtp_receiver  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--log", required=True)
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args()
    handler = smtp_receiver.Handler(open(args.log, "a"))

    async def run():
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            lambda: SMTP(handler, hostname="receiver.test"), "127.0.0.1",
            args.port, reuse_address=True)
        print("PORT %d" % server.sockets[0].getsockname()[1], flush=True)
        await server.serve_forever()

    asyncio.run(run())


if __name__ == "__main__":
    main()
