"""aiosmtpd peer for Postern's interop tests (started by test/helpers/aiosmtpd.ts).

Run with Debian's /usr/bin/python3 (python3-aiosmtpd). Listens on 127.0.0.1, on a port the kernel
picks, and prints "READY <port>" on stdout once it accepts connections. Every accepted message is
written to OUTDIR as NNNNNN.json (written to a .tmp file first, then renamed):

  {"mailFrom": str, "rcptTos": [str], "mailOptions": [str], "rcptOptions": [str],
   "data": base64 of envelope.original_content (the DATA bytes after dot-unstuffing, CRLF kept),
   "authUser": str or null, "tls": bool}

Exits on SIGTERM/SIGINT, and when stdin reaches EOF (the test process is gone, however it died).
"""

import argparse
import asyncio
import base64
import json
import logging
import os
import signal
import ssl
import sys
import warnings

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class Recorder:
    def __init__(self, outdir):
        self.outdir = outdir
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        record = {
            "mailFrom": envelope.mail_from,
            "rcptTos": list(envelope.rcpt_tos),
            "mailOptions": list(envelope.mail_options),
            "rcptOptions": list(envelope.rcpt_options),
            "data": base64.b64encode(envelope.original_content or b"").decode("ascii"),
            "authUser": _login_of(session),
            "tls": session.ssl is not None or server.transport.get_extra_info("sslcontext") is not None,
        }
        final = os.path.join(self.outdir, "%06d.json" % self.count)
        tmp = final + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(record, f)
        os.rename(tmp, final)
        return "250 2.0.0 OK stored as %06d" % self.count


def _login_of(session):
    data = getattr(session, "auth_data", None)
    if isinstance(data, LoginPassword):
        return data.login.decode("utf-8", "replace")
    return None


def make_authenticator(users):
    def authenticator(server, session, envelope, mechanism, auth_data):
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login = auth_data.login.decode("utf-8", "replace")
        password = auth_data.password.decode("utf-8", "replace")
        ok = login in users and users[login] == password
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    return authenticator


def tls_context(cert, key):
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    return ctx


async def main():
    # aiosmtpd warns about its own deprecated login_data and about AUTH without STARTTLS (intended here).
    warnings.simplefilter("ignore")
    logging.getLogger("mail.log").setLevel(logging.ERROR)
    p = argparse.ArgumentParser()
    p.add_argument("--outdir", required=True)
    p.add_argument("--tls", choices=["starttls", "implicit", "none"], default="starttls")
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--users", default="[]", help='JSON list of {"name","password"}')
    p.add_argument("--auth-required", action="store_true")
    p.add_argument("--no-require-starttls", action="store_true")
    p.add_argument("--smtputf8", action="store_true")
    p.add_argument("--data-size-limit", type=int, default=33554432)
    args = p.parse_args()

    users = {u["name"]: u["password"] for u in json.loads(args.users)}
    recorder = Recorder(args.outdir)
    ctx = tls_context(args.cert, args.key) if args.tls != "none" else None
    loop = asyncio.get_running_loop()

    def factory():
        kwargs = dict(
            hostname="aiosmtpd.example.test",
            enable_SMTPUTF8=args.smtputf8,
            decode_data=False,
            data_size_limit=args.data_size_limit,
            loop=loop,
        )
        if users:
            kwargs["authenticator"] = make_authenticator(users)
            kwargs["auth_required"] = args.auth_required
        if args.tls == "starttls":
            kwargs["tls_context"] = ctx
            kwargs["require_starttls"] = not args.no_require_starttls
        if args.tls != "starttls":
            # implicit: aiosmtpd only knows about TLS it negotiated itself (STARTTLS); here the whole
            # connection is TLS, so its "AUTH needs TLS" check must be off. none: AUTH in plaintext,
            # for tests of clients that must refuse it.
            kwargs["auth_require_tls"] = False
        return SMTP(recorder, **kwargs)

    server = await loop.create_server(
        factory, host="127.0.0.1", port=0, ssl=ctx if args.tls == "implicit" else None
    )
    port = server.sockets[0].getsockname()[1]

    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    def watch_stdin():
        # Blocks until the parent closes our stdin or dies.
        try:
            while sys.stdin.buffer.read(4096):
                pass
        finally:
            loop.call_soon_threadsafe(stop.set)

    loop.run_in_executor(None, watch_stdin)
    print("READY %d" % port, flush=True)
    await stop.wait()
    server.close()
    os._exit(0)  # the stdin watcher thread may still block in read()


if __name__ == "__main__":
    asyncio.run(main())
