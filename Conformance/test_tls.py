"""TLS listeners and the EXTERNAL SASL mechanism (client certificates).

Certificates: a test PKI made once per session by Tools/make-certs.sh (see tls.py). Three broker
configurations of the kind under test, each started once per module (module-scoped fixtures) with
the same rabbitmq.conf lines for both brokers (RabbitMQ additionally gets the
rabbitmq_auth_mechanism_ssl plugin for EXTERNAL; Warren has it built in):

* `tls_server`: plain listener + `listeners.ssl.default`, `ssl_options.verify = verify_peer`,
  `fail_if_no_peer_cert = false`, `auth_mechanisms` PLAIN, AMQPLAIN, EXTERNAL,
  `ssl_cert_login_from = common_name`, versions TLS 1.3 + 1.2; users guest and `client` (empty
  password hash: a certificate-only user).
* `strict_server`: the same with `fail_if_no_peer_cert = true`, `listeners.tcp = none`,
  `ssl_cert_login_from = distinguished_name`; users named by distinguished names.
* `reload_server`: like `tls_server`, with its own copy of the certificate files (a test rewrites
  them).

RabbitMQ 3.10.8 (Erlang/OTP 25.2) facts asserted here:
* connection.start `mechanisms` (space-separated, in the broker's registry order, not the order of
  `auth_mechanisms.N`): `EXTERNAL PLAIN AMQPLAIN` on the TLS port, with or without a client
  certificate; `PLAIN AMQPLAIN` on the plain port (EXTERNAL is configured but not offered).
* EXTERNAL with a verified certificate whose name is no user, or over TLS without a client
  certificate: connection.close 403 `ACCESS_REFUSED - Login was refused using authentication
  mechanism EXTERNAL. For details see the broker logfile.` (class 0, method 0), one close frame only,
  when the client has `authentication_failure_close`; without that capability the socket is just
  closed (after ~3 s). After the client's close-ok the server closes the socket at once (else ~3 s).
* EXTERNAL on the plain port (not offered there): nothing is sent; the socket is closed (RabbitMQ:
  after a 3 s delay, often with a TCP RST; internally a 503 "invalid authentication mechanism
  'EXTERNAL'" that is only logged).
* A user with an empty password hash can log in with EXTERNAL; the authenticated user name is the
  certificate's CN (`common_name`) or its subject DN (`distinguished_name`), as seen in the 406
  text for a mismatched `user_id` property.
* DN format (rabbit_cert_info:subject): the RDNs in REVERSE order of the certificate's sequence
  (CN first for an "/C/O/OU/CN" subject), joined by "," without spaces, multi-valued RDNs joined by
  "+", attribute names CN, L, ST, O, OU, C, SN, GIVENNAME, INITIALS, GENERATIONQUALIFIER, TITLE,
  SERIALNUMBER, PSEUDONYM, DC, EMAILADDRESS, UID, STREET (others as a dotted OID); values escaped
  RFC 4514 style: a leading space or '#', a trailing space, and any of `" + , ; < > \\` get a
  backslash, characters < 32 or >= 126 become `\\XX` (upper-case hex of each byte). Example:
  `CN=client,OU=TLS,O=Warren Conformance,C=GB`;
  `EMAILADDRESS=special@example.com,CN=a\\+b,OU=\\ padded\\ ,O=Warren\\, Inc.`.
* TLS 1.0/1.1 ClientHellos get a protocol_version alert; TLS 1.2 and 1.3 are accepted (RabbitMQ
  negotiates TLS_AES_256_GCM_SHA384 on 1.3 and ECDHE-RSA-AES256-GCM-SHA384 on 1.2 with Python's
  OpenSSL 3.0 defaults; only "an AEAD suite" is asserted).
* verify_peer + fail_if_no_peer_cert=true: no client certificate -> the handshake fails
  (certificate_required alert on TLS 1.3, handshake_failure on TLS 1.2); a certificate from an
  unknown CA -> unknown_ca alert. With fail_if_no_peer_cert=false a certificate from an unknown CA
  still fails the handshake with unknown_ca (verify_peer checks whatever is presented).
* `listeners.tcp = none`: the plain port is closed (connection refused), TLS works.
* Not asserted: the server sends its chain up to and including the root from cacertfile (so a
  client trusting another CA sees "self-signed certificate in certificate chain"), and its
  CertificateRequest names that CA; TLS 1.3 key exchange X25519, TLS 1.2 ECDHE P-256.
* SIGHUP: RabbitMQ ignores it (the rabbitmq-server script traps it, the Erlang VM logs nothing and
  keeps running) and keeps serving the certificate it loaded (see the reload test). It does
  re-read certificate files on its own, but only through OTP's PEM cache: every 2 minutes
  (ssl_pem_cache_clean) files modified since the previous check are dropped from the cache, so a
  file rewritten in place is served about 2 minutes later, while a file moved into place with an
  older mtime (as the reload test does, like `mv`) is never noticed; `ssl:clear_pem_cache()` reloads
  at once.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import ssl
import time
import uuid

import pika
import pika.credentials
import pika.exceptions
import pytest

import amqpraw as R
import brokers
import tls
from conftest import _abort_pika, _bounded_close
from util import module_workdir, require_broker

# Starting a module's broker happens inside its first test (RabbitMQ: ~7-10 s, more on a busy
# machine), so these tests get more than the suite's default 15 s.
pytestmark = pytest.mark.timeout(45)

CLIENT_DN = "CN=client,OU=TLS,O=Warren Conformance,C=GB"
SPECIAL_DN = r"EMAILADDRESS=special@example.com,CN=a\+b,OU=\ padded\ ,O=Warren\, Inc."
REFUSED_EXTERNAL = ("ACCESS_REFUSED - Login was refused using authentication mechanism EXTERNAL. "
                    "For details see the broker logfile.")
TLS_MECHANISMS = b"EXTERNAL PLAIN AMQPLAIN"
PLAIN_MECHANISMS = b"PLAIN AMQPLAIN"


def _definitions(cert_users: list[str]) -> dict:
    """guest/guest (administrator) plus certificate-only users (empty password hash), all with full
    permissions on "/". A "users" section replaces the default guest, so guest is listed here."""
    users = [{"name": "guest", "password_hash": brokers._guest_password_hash(),
              "hashing_algorithm": "rabbit_password_hashing_sha256", "tags": "administrator"}]
    users += [{"name": u, "password_hash": "", "hashing_algorithm": "rabbit_password_hashing_sha256",
               "tags": ""} for u in cert_users]
    return {
        "vhosts": [{"name": "/"}],
        "users": users,
        "permissions": [{"user": u["name"], "vhost": "/", "configure": ".*", "write": ".*", "read": ".*"}
                        for u in users],
    }


class TLSServer:
    """A broker of the kind under test with a TLS listener."""

    def __init__(self, broker: brokers.Broker, tls_port: int, certs: str):
        self.broker, self.tls_port, self.certs = broker, tls_port, certs
        self.name, self.host, self.port = broker.name, broker.host, broker.port

    def context(self, cert_name=None, **kw) -> ssl.SSLContext:
        return tls.client_context(self.certs, cert_name, **kw)


@pytest.fixture(scope="session")
def cert_dir(tmp_path_factory) -> str:
    return tls.cert_dir(str(tmp_path_factory.getbasetemp()))


def _start(_broker_server, tmp_path_factory, label: str, certs: str, **kw):
    kind = _broker_server.name
    require_broker(kind)
    b, tls_port = tls.start_tls_broker(kind, module_workdir(tmp_path_factory, f"{kind}-{label}"), certs, **kw)
    return TLSServer(b, tls_port, certs)


@pytest.fixture(scope="module")
def _tls_server(_broker_server, tmp_path_factory, cert_dir):
    s = _start(_broker_server, tmp_path_factory, "tls", cert_dir, definitions=_definitions(["client"]))
    yield s
    s.broker.stop()


@pytest.fixture(scope="module")
def _strict_server(_broker_server, tmp_path_factory, cert_dir):
    # "stranger" exists as a user, but under distinguished_name the stranger certificate logs in
    # as "CN=stranger,O=Warren Conformance", which does not.
    s = _start(_broker_server, tmp_path_factory, "tls-strict", cert_dir,
               definitions=_definitions([CLIENT_DN, SPECIAL_DN, "client", "stranger"]),
               fail_if_no_peer_cert=True, login_from="distinguished_name", plain_listener=False)
    yield s
    s.broker.stop()


@pytest.fixture(scope="module")
def _reload_server(_broker_server, tmp_path_factory, cert_dir):
    # Its own copy of the certificate files: the reload test overwrites the server's.
    private = tls.copy_certs(cert_dir, module_workdir(tmp_path_factory, f"{_broker_server.name}-reload-certs"))
    s = _start(_broker_server, tmp_path_factory, "tls-reload", private)
    yield s
    s.broker.stop()


def _alive(server: TLSServer):
    if not server.broker.alive():
        pytest.fail(f"{server.name} (TLS) died; log tail:\n{server.broker.log_tail()}")
    yield server
    if not server.broker.alive():
        pytest.fail(f"{server.name} (TLS) died during this test; log tail:\n{server.broker.log_tail()}")


@pytest.fixture
def tls_server(_tls_server):
    yield from _alive(_tls_server)


@pytest.fixture
def strict_server(_strict_server):
    yield from _alive(_strict_server)


@pytest.fixture
def reload_server(_reload_server):
    yield from _alive(_reload_server)


# ---------------------------------------------------------------- clients

@pytest.fixture
def connect():
    """Factory: connect(server, ctx, credentials=None, **kw) -> pika BlockingConnection over TLS
    (server name localhost), closed at teardown."""
    conns = []

    def make(server: TLSServer, ctx: ssl.SSLContext, credentials=None, server_hostname="localhost", **kw):
        params = pika.ConnectionParameters(
            server.host, server.tls_port,
            credentials=credentials or pika.PlainCredentials("guest", "guest"),
            ssl_options=pika.SSLOptions(ctx, server_hostname),
            connection_attempts=1, socket_timeout=10, blocked_connection_timeout=30, **kw)
        c = pika.BlockingConnection(params)
        conns.append(c)
        return c

    yield make
    for c in conns:
        if c.is_open:
            _bounded_close(c.close, lambda: _abort_pika(c))


@pytest.fixture
def raw_tls():
    """Factory: raw_tls(server, ctx, server_hostname="localhost") -> amqpraw.RawConnection whose
    socket has completed the TLS handshake (nothing sent yet). Closed at teardown."""
    conns = []

    def make(server: TLSServer, ctx: ssl.SSLContext, server_hostname: str = "localhost"):
        c = R.RawConnection(server.host, server.tls_port)
        conns.append(c)
        c.sock = ctx.wrap_socket(c.sock, server_hostname=server_hostname)
        return c

    yield make
    for c in conns:
        c.close()


def round_trip(conn, body: bytes = b"over-tls") -> None:
    """Declare a queue, publish to it, get the message back."""
    ch = conn.channel()
    ch.confirm_delivery()
    q = ch.queue_declare(f"conf.tls.{uuid.uuid4().hex[:8]}", exclusive=True).method.queue
    ch.basic_publish("", q, body)
    _m, _p, got = ch.basic_get(q, auto_ack=True)
    assert got == body


def authenticated_user(conn) -> str:
    """The name the broker authenticated this connection as: the 406 text for a user_id mismatch."""
    ch = conn.channel()
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.basic_publish("", q, b"x", pika.BasicProperties(user_id="conf-nobody"))
    with pytest.raises(pika.exceptions.ChannelClosedByBroker) as ei:
        ch.queue_declare(q, passive=True)
    assert ei.value.reply_code == 406, ei.value
    prefix = "PRECONDITION_FAILED - user_id property set to 'conf-nobody' but authenticated user was '"
    assert ei.value.reply_text.startswith(prefix) and ei.value.reply_text.endswith("'"), ei.value.reply_text
    return ei.value.reply_text[len(prefix):-1]


def read_to_eof(sock, timeout: float = 10.0) -> tuple[bytes, str]:
    """Read until the peer closes: (data, "eof"|"reset"); fails if it doesn't close in time."""
    sock.settimeout(timeout)
    data = b""
    while True:
        try:
            chunk = sock.recv(4096)
        except (ConnectionResetError, ssl.SSLEOFError):
            return data, "reset"
        except ssl.SSLZeroReturnError:
            return data, "eof"
        except socket.timeout:
            pytest.fail(f"server did not close the socket within {timeout}s (got {data!r})")
        if not chunk:
            return data, "eof"
        data += chunk


def external_start_ok(raw, capabilities=None) -> None:
    raw.start()
    raw.start_ok(mechanism="EXTERNAL", response=b"", capabilities=capabilities)


def expect_403_external(raw) -> None:
    """connection.close 403 (EXTERNAL refused), exactly one; after close-ok the socket is closed."""
    f = raw.read_frame()
    assert f.method == R.CONNECTION_CLOSE, f
    assert f.channel == 0
    assert f.close_info() == (403, REFUSED_EXTERNAL, 0, 0)
    raw.send_method(0, R.CONNECTION_CLOSE_OK)
    data, _how = read_to_eof(raw.sock, timeout=10)
    assert data == b"", f"more after connection.close: {data!r}"


def handshake_refused(server: TLSServer, ctx: ssl.SSLContext) -> BaseException:
    """Connect over TLS; the server must refuse the handshake. Returns the client-side error.

    On TLS 1.3 the server judges the client certificate after the client's side of the handshake
    is done, so its alert arrives at the first read. The client therefore reads before sending
    anything (sending first could make the server's kernel answer with a RST that discards the
    alert); only if the server stays silent is the AMQP header sent. Fails if connection.start
    comes back."""
    with socket.create_connection((server.host, server.tls_port), timeout=10) as s:
        try:
            with ctx.wrap_socket(s, server_hostname="localhost") as t:
                t.settimeout(3)
                try:
                    data = t.recv(4096)
                except socket.timeout:
                    t.settimeout(10)
                    t.sendall(R.PROTOCOL_HEADER)
                    data = t.recv(4096)
                if data == b"":
                    return ConnectionAbortedError("closed without an alert")
        except (ssl.SSLError, OSError) as e:
            return e
    pytest.fail(f"the TLS handshake succeeded and the server answered {data[:16]!r}")


def ssl_reason(e: BaseException) -> str:
    return getattr(e, "reason", None) or type(e).__name__


# ---------------------------------------------------------------- server verification, versions

def test_tls_pika_round_trip_with_server_verification(tls_server, connect):
    conn = connect(tls_server, tls_server.context())
    round_trip(conn)
    assert authenticated_user(conn) == "guest"


@pytest.mark.parametrize("server_hostname", ["localhost", "127.0.0.1"])
def test_tls_server_presents_the_configured_certificate(tls_server, raw_tls, server_hostname):
    raw = raw_tls(tls_server, tls_server.context(), server_hostname=server_hostname)
    peer = raw.sock.getpeercert(binary_form=True)
    assert peer == tls.der(tls.cert(tls_server.certs, "server"))
    assert tls.serial_of(peer) == 0x1001
    raw.start()
    assert raw.version == (0, 9)


def test_tls_client_refuses_a_server_it_cannot_verify(tls_server):
    # The client trusts only the other CA: verification fails on the client side.
    ctx = tls_server.context(ca="untrusted_ca")
    with socket.create_connection((tls_server.host, tls_server.tls_port), timeout=10) as s:
        with pytest.raises(ssl.SSLCertVerificationError) as ei:
            ctx.wrap_socket(s, server_hostname="localhost")
    # 19 X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN (RabbitMQ sends its chain up to and including the
    # root from cacertfile), or 20 X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY (leaf only).
    assert ei.value.verify_code in (19, 20), ei.value
    with pytest.raises(ssl.SSLCertVerificationError):  # pika re-raises the ssl error
        pika.BlockingConnection(pika.ConnectionParameters(
            tls_server.host, tls_server.tls_port, ssl_options=pika.SSLOptions(ctx, "localhost"),
            connection_attempts=1, socket_timeout=10))


def test_tls_client_refuses_a_server_certificate_for_another_name(tls_server):
    with socket.create_connection((tls_server.host, tls_server.tls_port), timeout=10) as s:
        with pytest.raises(ssl.SSLCertVerificationError) as ei:
            tls_server.context().wrap_socket(s, server_hostname="not-localhost.example")
    assert ei.value.verify_code == 62, ei.value  # X509_V_ERR_HOSTNAME_MISMATCH


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1], ids=["tls1.0", "tls1.1"])
def test_tls_old_versions_are_refused_by_the_server(tls_server, version):
    ctx = tls_server.context(minimum=version, maximum=version)
    with socket.create_connection((tls_server.host, tls_server.tls_port), timeout=10) as s:
        with pytest.raises(ssl.SSLError) as ei:
            ctx.wrap_socket(s, server_hostname="localhost")
    # The server's protocol_version alert (not a client-side "no protocols available").
    assert ssl_reason(ei.value) == "TLSV1_ALERT_PROTOCOL_VERSION", ei.value


@pytest.mark.parametrize("version,name", [(ssl.TLSVersion.TLSv1_2, "TLSv1.2"), (ssl.TLSVersion.TLSv1_3, "TLSv1.3")],
                         ids=["tls1.2", "tls1.3"])
def test_tls_1_2_and_1_3_are_accepted(tls_server, raw_tls, version, name):
    raw = raw_tls(tls_server, tls_server.context(minimum=version, maximum=version))
    assert raw.sock.version() == name
    cipher, proto, _bits = raw.sock.cipher()
    assert proto == name
    assert "GCM" in cipher or "CHACHA20" in cipher, cipher  # an AEAD suite
    raw.handshake()  # PLAIN guest/guest, tune, open
    assert raw.channel_open(1).method == R.CHANNEL_OPEN_OK


def test_tls_pika_plain_login_while_presenting_a_client_certificate(tls_server, connect):
    # A client certificate does not force EXTERNAL: PLAIN still decides who logs in.
    conn = connect(tls_server, tls_server.context("client"))
    round_trip(conn)
    assert authenticated_user(conn) == "guest"


def test_tls_client_certificate_from_an_unknown_ca_is_refused_even_when_optional(tls_server):
    # fail_if_no_peer_cert = false only allows NO certificate; a presented one is verified.
    e = handshake_refused(tls_server, tls_server.context("untrusted_client"))
    assert ssl_reason(e) == "TLSV1_ALERT_UNKNOWN_CA", e


# ---------------------------------------------------------------- mechanisms

@pytest.mark.parametrize("cert_name", [None, "client"], ids=["no-client-cert", "client-cert"])
def test_tls_port_offers_external(tls_server, raw_tls, cert_name):
    raw = raw_tls(tls_server, tls_server.context(cert_name))
    raw.start()
    assert raw.mechanisms == TLS_MECHANISMS
    assert raw.locales == b"en_US"


def test_tls_plain_port_does_not_offer_external(tls_server):
    with R.RawConnection(tls_server.host, tls_server.port) as raw:
        raw.start()
        assert raw.mechanisms == PLAIN_MECHANISMS


def test_tls_external_on_the_plain_port_closes_without_a_frame(tls_server):
    with R.RawConnection(tls_server.host, tls_server.port) as raw:
        external_start_ok(raw)
        data, _how = read_to_eof(raw.sock, timeout=10)  # RabbitMQ: after 3 s, often with a RST
        assert data == b""


# ---------------------------------------------------------------- EXTERNAL, common_name

def test_tls_external_login_with_client_certificate(tls_server, connect):
    conn = connect(tls_server, tls_server.context("client"),
                   credentials=pika.credentials.ExternalCredentials())
    round_trip(conn)
    assert authenticated_user(conn) == "client"


def test_tls_external_login_user_id_property_is_the_cn(tls_server, connect):
    conn = connect(tls_server, tls_server.context("client"),
                   credentials=pika.credentials.ExternalCredentials())
    ch = conn.channel()
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.basic_publish("", q, b"mine", pika.BasicProperties(user_id="client"))
    _m, props, body = ch.basic_get(q, auto_ack=True)
    assert body == b"mine" and props.user_id == "client"


def test_tls_external_login_raw_handshake(tls_server, raw_tls):
    raw = raw_tls(tls_server, tls_server.context("client"))
    external_start_ok(raw)
    cmax, fmax, _hb = raw.read_tune()
    raw.tune_ok(cmax, fmax, 0)
    assert raw.open("/").method == R.CONNECTION_OPEN_OK


def test_tls_external_with_unknown_cn_is_403(tls_server, raw_tls):
    raw = raw_tls(tls_server, tls_server.context("stranger"))
    external_start_ok(raw)
    expect_403_external(raw)


def test_tls_external_with_unknown_cn_pika(tls_server, connect):
    with pytest.raises(pika.exceptions.ProbableAuthenticationError) as ei:
        connect(tls_server, tls_server.context("stranger"),
                credentials=pika.credentials.ExternalCredentials())
    assert "403" in str(ei.value) and REFUSED_EXTERNAL in str(ei.value)


def test_tls_external_with_unknown_cn_without_capability_just_closes(tls_server, raw_tls):
    raw = raw_tls(tls_server, tls_server.context("stranger"))
    external_start_ok(raw, capabilities={})
    data, _how = read_to_eof(raw.sock, timeout=10)
    assert data == b""


def test_tls_external_without_client_certificate_is_403(tls_server, raw_tls):
    # Offered (see above) but refused: there is no certificate to take a name from.
    raw = raw_tls(tls_server, tls_server.context())
    external_start_ok(raw)
    expect_403_external(raw)


def test_tls_certificate_only_user_cannot_log_in_with_plain(tls_server, connect):
    with pytest.raises(pika.exceptions.ProbableAuthenticationError) as ei:
        connect(tls_server, tls_server.context("client"), credentials=pika.PlainCredentials("client", ""))
    assert "ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN" in str(ei.value)


# ---------------------------------------------------------------- fail_if_no_peer_cert, listeners.tcp = none, DN

@pytest.mark.parametrize("version,alert", [
    (ssl.TLSVersion.TLSv1_3, "TLSV13_ALERT_CERTIFICATE_REQUIRED"),
    (ssl.TLSVersion.TLSv1_2, "SSLV3_ALERT_HANDSHAKE_FAILURE"),
], ids=["tls1.3", "tls1.2"])
def test_tls_required_client_certificate_missing_fails_handshake(strict_server, version, alert):
    e = handshake_refused(strict_server, strict_server.context(None, minimum=version, maximum=version))
    assert ssl_reason(e) == alert, e


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2], ids=["tls1.3", "tls1.2"])
def test_tls_required_client_certificate_from_unknown_ca_fails_handshake(strict_server, version):
    e = handshake_refused(strict_server, strict_server.context("untrusted_client", minimum=version,
                                                               maximum=version))
    assert ssl_reason(e) == "TLSV1_ALERT_UNKNOWN_CA", e


def test_tls_required_client_certificate_present_works(strict_server, connect):
    conn = connect(strict_server, strict_server.context("client"))
    round_trip(conn)
    assert authenticated_user(conn) == "guest"


def test_tls_listeners_tcp_none_closes_the_plain_port(strict_server, raw_tls):
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((strict_server.host, strict_server.port), timeout=5).close()
    raw = raw_tls(strict_server, strict_server.context("client"))
    raw.handshake()


def test_tls_strict_port_offers_external(strict_server, raw_tls):
    raw = raw_tls(strict_server, strict_server.context("client"))
    raw.start()
    assert raw.mechanisms == TLS_MECHANISMS


def test_tls_distinguished_name_login(strict_server, connect):
    conn = connect(strict_server, strict_server.context("client"),
                   credentials=pika.credentials.ExternalCredentials())
    round_trip(conn)
    assert authenticated_user(conn) == CLIENT_DN


def test_tls_distinguished_name_user_id_property(strict_server, connect):
    conn = connect(strict_server, strict_server.context("client"),
                   credentials=pika.credentials.ExternalCredentials())
    ch = conn.channel()
    q = ch.queue_declare("", exclusive=True).method.queue
    ch.basic_publish("", q, b"mine", pika.BasicProperties(user_id=CLIENT_DN))
    _m, props, body = ch.basic_get(q, auto_ack=True)
    assert body == b"mine" and props.user_id == CLIENT_DN


def test_tls_distinguished_name_escaping(strict_server, connect):
    conn = connect(strict_server, strict_server.context("special"),
                   credentials=pika.credentials.ExternalCredentials())
    assert authenticated_user(conn) == SPECIAL_DN


def test_tls_distinguished_name_login_is_not_the_cn(strict_server, raw_tls):
    # A user "stranger" exists, but the stranger certificate's name here is its DN.
    raw = raw_tls(strict_server, strict_server.context("stranger"))
    external_start_ok(raw)
    expect_403_external(raw)


# ---------------------------------------------------------------- certificate reload (Warren extension)

def _sighup(broker: brokers.Broker) -> None:
    """SIGHUP to the broker process; for RabbitMQ also to the Erlang VM under the rabbitmq-server
    script (the script itself traps and ignores HUP)."""
    os.kill(broker.pid, signal.SIGHUP)
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        if ppid == broker.pid and comm.startswith("beam"):
            os.kill(int(entry), signal.SIGHUP)


def _served_serial(server: TLSServer) -> int:
    with socket.create_connection((server.host, server.tls_port), timeout=10) as s:
        with server.context().wrap_socket(s, server_hostname="localhost") as t:
            return tls.serial_of(t.getpeercert(binary_form=True))


@pytest.mark.warren_extension(
    "RabbitMQ 3.10 does not reload its certificate on SIGHUP (it ignores the signal); it keeps "
    "serving the cached one until restarted or ssl:clear_pem_cache() (OTP's 2-minute PEM-cache check "
    "only re-reads files modified after its previous check, and files moved into place keep their "
    "older mtime)")
def test_tls_certificate_reload_on_sighup(reload_server, connect):
    d = reload_server.certs
    assert _served_serial(reload_server) == 0x1001
    old = connect(reload_server, reload_server.context())
    round_trip(old, b"before")

    # Replace the configured files the way a deployment would: write next to them, rename over
    # them (atomic; like `mv`, the new files keep their own, older, modification times).
    for part in ("certificate", "key"):
        tmp = os.path.join(d, f".server_{part}.pem.new")
        shutil.copy2(os.path.join(d, f"server2_{part}.pem"), tmp)
    for part in ("key", "certificate"):
        os.replace(os.path.join(d, f".server_{part}.pem.new"), os.path.join(d, f"server_{part}.pem"))
    _sighup(reload_server.broker)

    # The broker survives the signal and the connection made before it keeps working.
    time.sleep(0.5)
    assert reload_server.broker.alive(), "the broker died on SIGHUP"
    round_trip(old, b"after")

    deadline = time.monotonic() + 5
    serial = _served_serial(reload_server)
    while serial != 0x1002 and time.monotonic() < deadline:
        time.sleep(0.2)
        serial = _served_serial(reload_server)
    assert serial == 0x1002, f"new connections still get certificate serial {serial:#x} after SIGHUP"
    new = connect(reload_server, reload_server.context())
    round_trip(new, b"new")
    round_trip(old, b"old-still")
