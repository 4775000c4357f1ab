#!/usr/bin/python3
"""An SMTP server for tests (aiosmtpd, Debian python3-aiosmtpd), with
STARTTLS and AUTH, that parses every message it accepts with Python's
email package and logs what it found.

    smtp_receiver.py --dir DIR --log FILE [--user U --password P]
                     [--no-tls]

With TLS (the default) it makes DIR/cert.pem and DIR/key.pem with openssl
(self-signed for 127.0.0.1 and localhost) unless they exist, requires
STARTTLS before MAIL and AUTH. Prints "PORT <n>" once it listens on
127.0.0.1. Each message becomes one JSON line in FILE: mail_from,
rcpt_tos, tls, auth_login, raw_subject, subject (decoded), message_id,
date, from and to (with their mailboxes as [display name, address]
pairs in from_mailboxes and to_mailboxes), header_counts, parts [{type,
charset, text}], defects, reset.

Failures on demand, by recipient local part:
    tempfail@...  451 at RCPT          permfail@...  550 at RCPT
    datafail@...  451 after DATA       reset@...     connection dropped
                                                     after the message
                                                     arrived, before 250
"""
import argparse
import asyncio
import email
import email.policy
import json
import os
import ssl
import subprocess
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


def make_cert(d):
    cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
    if not os.path.exists(cert):
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
             "-keyout", key, "-out", cert, "-days", "2",
             "-subj", "/CN=localhost",
             "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return cert, key


def mailboxes(header):
    """[display name, address] of each mailbox in an address header."""
    if header is None:
        return None
    return [[a.display_name, a.addr_spec] for a in header.addresses]


def parse(data):
    msg = email.message_from_bytes(data, policy=email.policy.default)
    raw = email.message_from_bytes(data, policy=email.policy.compat32)
    counts = {}
    for name in raw.keys():
        counts[name.lower()] = counts.get(name.lower(), 0) + 1
    parts = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        parts.append({"type": part.get_content_type(),
                      "charset": part.get_content_charset(),
                      "cte": part.get("Content-Transfer-Encoding"),
                      "text": part.get_content()})
    return {
        "raw_subject": raw.get("Subject"),
        "subject": str(msg["subject"]) if msg["subject"] is not None
        else None,
        "message_id": msg["message-id"],
        "date": msg["date"],
        "from": msg["from"],
        "to": msg["to"],
        "from_mailboxes": mailboxes(msg["from"]),
        "to_mailboxes": mailboxes(msg["to"]),
        "content_type": msg.get_content_type(),
        "header_counts": counts,
        "parts": parts,
        "defects": [str(d) for d in msg.defects],
    }


class Handler:
    def __init__(self, log):
        self.log = log

    async def handle_RCPT(self, server, session, envelope, address,
                          rcpt_options):
        local = address.split("@")[0]
        if local == "tempfail":
            return "451 4.3.0 try again later"
        if local == "permfail":
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        rec = parse(envelope.original_content)
        locals_ = [a.split("@")[0] for a in envelope.rcpt_tos]
        rec.update({"mail_from": envelope.mail_from,
                    "rcpt_tos": envelope.rcpt_tos,
                    "tls": session.ssl is not None,
                    "auth_login": getattr(session, "fw_login", None),
                    "reset": "reset" in locals_,
                    "status": 250})
        if "datafail" in locals_:
            rec["status"] = 451
        self.log.write(json.dumps(rec) + "\n")
        self.log.flush()
        if "reset" in locals_:
            server.transport.abort()
            return "250 OK"
        if "datafail" in locals_:
            return "451 4.3.0 queue full"
        return "250 OK queued"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--user")
    ap.add_argument("--password")
    ap.add_argument("--no-tls", action="store_true")
    args = ap.parse_args()
    log = open(args.log, "a")

    def authenticator(server, session, envelope, mechanism, auth_data):
        if (isinstance(auth_data, LoginPassword)
                and auth_data.login.decode() == args.user
                and auth_data.password.decode() == args.password):
            session.fw_login = args.user
            return AuthResult(success=True)
        return AuthResult(success=False, handled=False)

    kwargs = {}
    if not args.no_tls:
        cert, key = make_cert(args.dir)
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(cert, key)
        kwargs.update(tls_context=ctx, require_starttls=True)
    if args.user:
        kwargs.update(authenticator=authenticator, auth_required=True,
                      auth_require_tls=not args.no_tls)
    handler = Handler(log)

    async def run():
        loop = asyncio.get_running_loop()
        server = await loop.create_server(
            lambda: SMTP(handler, hostname="receiver.test",
                         **kwargs), "127.0.0.1", 0)
        print("PORT %d" % server.sockets[0].getsockname()[1], flush=True)
        await server.serve_forever()

    asyncio.run(run())


if __name__ == "__main__":
    main()
