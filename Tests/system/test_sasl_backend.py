"""The Cyrus SASL password backend (`auth_backends.N = sasl`), against a real sasldb made with
`saslpasswd2` (Debian's sasl2-bin): passwords checked by libsasl2, tags and permissions from the
internal database, and the backends tried in their configured order."""
import json
import shutil
import subprocess

import pika
import pytest

from conftest import launch

SASLPASSWD2 = shutil.which("saslpasswd2") or "/usr/sbin/saslpasswd2"


def make_sasldb(path, users: dict) -> None:
    for user, password in users.items():
        subprocess.run([SASLPASSWD2, "-f", str(path), "-a", "warren", "-c", "-p", user],
                       input=password, text=True, check=True, capture_output=True)


def connect(server, user: str, password: str) -> pika.BlockingConnection:
    return pika.BlockingConnection(pika.ConnectionParameters(
        host="127.0.0.1", port=server.port, credentials=pika.PlainCredentials(user, password),
        connection_attempts=1, socket_timeout=10))


@pytest.fixture
def sasl_server(binary, tmp_path):
    if not shutil.which(SASLPASSWD2):
        pytest.skip("saslpasswd2 not installed (apt-get install sasl2-bin)")
    sasldb = tmp_path / "sasldb2"
    make_sasldb(sasldb, {"alice": "wonderland", "mallory": "secret"})
    definitions = tmp_path / "definitions.json"
    # alice exists internally without a password (tags and permissions only); mallory has no
    # internal record, so no permissions; guest keeps an internal password.
    definitions.write_text(json.dumps({
        "users": [
            {"name": "alice", "password_hash": "", "tags": "impersonator"},
            {"name": "guest", "password_hash": "kI3GCqW5JLMJa4iX1lo7X4D6XbYqlLgxIs30+P6tENUV2POR",
             "tags": "administrator"},
        ],
        "vhosts": [{"name": "/"}],
        "permissions": [
            {"user": "alice", "vhost": "/", "configure": ".*", "write": ".*", "read": ".*"},
            {"user": "guest", "vhost": "/", "configure": ".*", "write": ".*", "read": ".*"},
        ],
    }))
    config = tmp_path / "warren.conf"
    config.write_text(
        "auth_backends.1 = sasl\n"
        "auth_backends.2 = internal\n"
        "auth_sasl.pwcheck_method = auxprop\n"
        "auth_sasl.auxprop_plugin = sasldb\n"
        f"auth_sasl.sasldb_path = {sasldb}\n")
    server = launch(binary, tmp_path / "data", "--config", str(config), "--import-definitions", str(definitions))
    yield server
    server.stop()


def test_a_password_in_the_sasldb_logs_in_with_internal_permissions(sasl_server):
    conn = connect(sasl_server, "alice", "wonderland")
    try:
        ch = conn.channel()
        q = ch.queue_declare("", exclusive=True).method.queue
        ch.basic_publish("", q, b"via sasl", pika.BasicProperties(user_id="someone-else"))
        method, props, body = next(ch.consume(q, auto_ack=True, inactivity_timeout=5))
        assert body == b"via sasl"
        assert props.user_id == "someone-else"  # alice's internal impersonator tag applies
    finally:
        conn.close()


def test_a_wrong_sasl_password_is_refused_like_any_login(sasl_server):
    with pytest.raises(pika.exceptions.ProbableAuthenticationError) as refused:
        connect(sasl_server, "alice", "not-it")
    assert "Login was refused using authentication mechanism PLAIN" in str(refused.value)


def test_a_sasl_user_without_internal_permissions_cannot_open_a_vhost(sasl_server):
    with pytest.raises(pika.exceptions.ProbableAccessDeniedError) as denied:
        connect(sasl_server, "mallory", "secret")
    assert "access to vhost '/' refused for user 'mallory'" in str(denied.value)


def test_the_next_backend_is_tried_when_sasl_refuses(sasl_server):
    # guest is not in the sasldb: SASL refuses, the internal database accepts.
    connect(sasl_server, "guest", "test12").close()
