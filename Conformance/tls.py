"""TLS helpers for the conformance tests: a test PKI made once per session by Tools/make-certs.sh,
client `ssl.SSLContext`s and `pika.SSLOptions`, TLS rabbitmq.conf lines, a raw AMQP client over TLS,
and starting a broker whose readiness is judged on its TLS port.

    d = certs.cert_dir()                      # tls.cert_dir(): generated once, then reused
    ctx = client_context(d, cert="client")    # trusts d's CA, presents client_certificate.pem
    params = pika.ConnectionParameters("127.0.0.1", port, ssl_options=pika_ssl_options(ctx))

Certificates (see Tools/make-certs.sh): ca, server (CN=localhost, serial 0x1001), server2 (same
names, serial 0x1002), client (C=GB,O=Warren Conformance,OU=TLS,CN=client), stranger
(CN=stranger), special (a subject that needs escaping), untrusted_ca + untrusted_client.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from typing import Iterator, Optional, Sequence

import brokers

MAKE_CERTS = os.path.join(brokers.REPO_ROOT, "Tools", "make-certs.sh")
CERT_NAMES = ("ca", "server", "server2", "client", "stranger", "special", "untrusted_ca",
              "untrusted_client")

_lock = threading.Lock()
_session_dir: Optional[str] = None


def make_certs(outdir: str, force: bool = False) -> str:
    """Run Tools/make-certs.sh OUTDIR; returns outdir."""
    cmd = ["sh", MAKE_CERTS] + (["--force"] if force else []) + [outdir]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({r.returncode}):\n{r.stdout}{r.stderr}")
    return outdir


def cert_dir(base: Optional[str] = None) -> str:
    """The session's certificate directory, generated on first use (in base, or a fresh temp dir)."""
    global _session_dir
    with _lock:
        if _session_dir is None:
            d = os.path.join(base, "certs") if base else tempfile.mkdtemp(prefix="warren-certs-")
            _session_dir = make_certs(d)
        return _session_dir


def cert(d: str, name: str) -> str:
    return os.path.join(d, f"{name}_certificate.pem")


def key(d: str, name: str) -> str:
    return os.path.join(d, f"{name}_key.pem")


def copy_certs(src: str, dst: str) -> str:
    """A private copy of the certificate directory (for a broker whose files a test rewrites).
    copy2: the files keep their modification times."""
    os.makedirs(dst, exist_ok=True)
    for n in CERT_NAMES:
        for p in (cert(src, n), key(src, n)):
            shutil.copy2(p, os.path.join(dst, os.path.basename(p)))
    return dst


def der(path: str) -> bytes:
    """DER bytes of the (first) certificate in a PEM file."""
    with open(path) as f:
        return ssl.PEM_cert_to_DER_cert(f.read())


def serial_of(der_bytes: bytes) -> int:
    """The serial number of a DER certificate (tbsCertificate: [0] version, then the INTEGER)."""
    def header(b: bytes, i: int) -> tuple[int, int, int]:  # (tag, content start, content length)
        tag, n = b[i], b[i + 1]
        i += 2
        if n & 0x80:
            k = n & 0x7F
            n = int.from_bytes(b[i:i + k], "big")
            i += k
        return tag, i, n

    _, i, _ = header(der_bytes, 0)        # Certificate SEQUENCE
    _, i, _ = header(der_bytes, i)        # tbsCertificate SEQUENCE
    tag, start, n = header(der_bytes, i)
    if tag == 0xA0:                       # explicit version
        tag, start, n = header(der_bytes, start + n)
    assert tag == 0x02, f"expected INTEGER serial, got tag {tag:#x}"
    return int.from_bytes(der_bytes[start:start + n], "big", signed=True)


def client_context(d: str, cert_name: Optional[str] = None, ca: str = "ca",
                   minimum: Optional[ssl.TLSVersion] = None,
                   maximum: Optional[ssl.TLSVersion] = None) -> ssl.SSLContext:
    """A client context that verifies the server against d's CA `ca` (hostname checked), optionally
    presenting the client certificate `cert_name` (e.g. "client", "stranger", "untrusted_client")
    and pinned to a TLS version range. Below TLS 1.2 the client lowers its own OpenSSL security
    level so that it really offers the old version (and the refusal comes from the server)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(cert(d, ca))
    ctx.check_hostname = True
    ctx.verify_mode = ssl.CERT_REQUIRED
    if cert_name is not None:
        ctx.load_cert_chain(cert(d, cert_name), key(d, cert_name))
    if minimum is not None and minimum < ssl.TLSVersion.TLSv1_2:
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    if minimum is not None:
        ctx.minimum_version = minimum
    if maximum is not None:
        ctx.maximum_version = maximum
    return ctx


def pika_ssl_options(ctx: ssl.SSLContext, server_hostname: str = "localhost"):
    import pika
    return pika.SSLOptions(ctx, server_hostname)


def tls_config_lines(d: str, tls_port: int, *, fail_if_no_peer_cert: bool = False,
                     login_from: str = "common_name", plain_listener: bool = True,
                     host: str = "127.0.0.1") -> list[str]:
    """rabbitmq.conf lines (the same keys for Warren) for a TLS listener on host:tls_port with d's
    server certificate, peer verification, PLAIN/AMQPLAIN/EXTERNAL and TLS 1.3 + 1.2."""
    lines = [
        f"listeners.ssl.default = {host}:{tls_port}",
        f"ssl_options.cacertfile = {cert(d, 'ca')}",
        f"ssl_options.certfile = {cert(d, 'server')}",
        f"ssl_options.keyfile = {key(d, 'server')}",
        "ssl_options.verify = verify_peer",
        f"ssl_options.fail_if_no_peer_cert = {'true' if fail_if_no_peer_cert else 'false'}",
        "auth_mechanisms.1 = PLAIN",
        "auth_mechanisms.2 = AMQPLAIN",
        "auth_mechanisms.3 = EXTERNAL",
        f"ssl_cert_login_from = {login_from}",
        "ssl_options.versions.1 = tlsv1.3",
        "ssl_options.versions.2 = tlsv1.2",
    ]
    if not plain_listener:
        lines.append("listeners.tcp = none")
    return lines


def tls_handshake_ok(host: str, port: int, ctx: ssl.SSLContext, timeout: float = 2.0) -> bool:
    """True if host:port completes a TLS handshake (with ctx, SNI localhost) and then answers the
    AMQP 0-9-1 header with connection.start."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost") as s:
                s.settimeout(timeout)
                return brokers.answers_connection_start(s)
    except (OSError, ssl.SSLError):
        return False


@contextlib.contextmanager
def ready_on_tls(plain_port: int, tls_port: int, ctx: ssl.SSLContext) -> Iterator[None]:
    """While starting a broker whose plain listener is off (`listeners.tcp = none`): brokers.py
    judges readiness by an AMQP handshake on the plain port, so for the duration, a readiness probe
    of 127.0.0.1:plain_port does the handshake over TLS on tls_port instead."""
    original = brokers.amqp_handshake_ok

    def probe(host: str, port: int, timeout: float = 2.0) -> bool:
        if port == plain_port:
            return tls_handshake_ok(host, tls_port, ctx, timeout)
        return original(host, port, timeout)

    brokers.amqp_handshake_ok = probe
    try:
        yield
    finally:
        brokers.amqp_handshake_ok = original


def start_tls_broker(kind: str, workdir: str, d: str, *, definitions: Optional[dict] = None,
                     fail_if_no_peer_cert: bool = False, login_from: str = "common_name",
                     plain_listener: bool = True,
                     extra_lines: Sequence[str] = ()) -> tuple["brokers.Broker", int]:
    """Start a RabbitMQ or Warren broker with a TLS listener configured from d's certificates.
    Returns (broker, tls_port); broker.port is the plain port (not listening if not plain_listener).
    RabbitMQ gets the rabbitmq_auth_mechanism_ssl plugin (EXTERNAL); Warren has it built in."""
    plain_port, tls_port = brokers._free_ports(2)
    lines = tls_config_lines(d, tls_port, fail_if_no_peer_cert=fail_if_no_peer_cert,
                             login_from=login_from, plain_listener=plain_listener) + list(extra_lines)
    probe_ctx = client_context(d, cert_name="client")
    guard = contextlib.nullcontext() if plain_listener else ready_on_tls(plain_port, tls_port, probe_ctx)
    with guard:
        if kind == "rabbitmq":
            b = brokers.start_rabbitmq(workdir, port=plain_port, definitions=definitions,
                                       config_lines=lines, plugins=["rabbitmq_auth_mechanism_ssl"])
        else:
            b = brokers.start_warren(workdir, port=plain_port, definitions=definitions,
                                     config_lines=lines)
    deadline = time.monotonic() + 15
    while not tls_handshake_ok(b.host, tls_port, probe_ctx, timeout=2.0):
        if time.monotonic() > deadline or not b.alive():
            b.stop()
            raise brokers.BrokerStartError(f"{kind}: TLS listener on {tls_port} does not answer; "
                                           f"log tail:\n{b.log_tail()}")
        time.sleep(0.2)
    return b, tls_port
