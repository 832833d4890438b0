"""Certificate reload without SIGHUP: warren-server notices certificate files rewritten in place
(checked every second), and a half-written pair (new certificate, old key) is refused with a
log line while the old certificate keeps serving, then picked up once the key arrives too. The
SIGHUP path is covered by Conformance/test_tls.py."""
import shutil
import socket
import ssl
import subprocess
import time

import pytest

from conftest import ROOT, free_port, launch


def served_certificate(port: int) -> bytes:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        with context.wrap_socket(raw) as tls:
            return tls.getpeercert(binary_form=True)


def der(path) -> bytes:
    return ssl.PEM_cert_to_DER_cert(path.read_text())


def wait_for(port: int, certificate: bytes, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if served_certificate(port) == certificate:
            return True
        time.sleep(0.2)
    return False


@pytest.fixture
def tls_server(binary, tmp_path):
    if not shutil.which("openssl"):
        pytest.skip("openssl not installed")
    pki = tmp_path / "pki"
    subprocess.run(["sh", str(ROOT / "Tools" / "make-certs.sh"), str(pki)], check=True, capture_output=True)
    live = tmp_path / "live"
    live.mkdir()
    shutil.copy(pki / "server_certificate.pem", live / "cert.pem")
    shutil.copy(pki / "server_key.pem", live / "key.pem")
    port = free_port()
    config = tmp_path / "warren.conf"
    config.write_text(
        f"listeners.ssl.default = {port}\n"
        f"ssl_options.certfile = {live / 'cert.pem'}\n"
        f"ssl_options.keyfile = {live / 'key.pem'}\n")
    server = launch(binary, tmp_path / "data", "--config", str(config))
    yield server, port, pki, live
    server.stop()


def test_files_rewritten_in_place_are_served_to_new_connections(tls_server):
    _, port, pki, live = tls_server
    assert served_certificate(port) == der(pki / "server_certificate.pem")
    (live / "key.pem").write_text((pki / "server2_key.pem").read_text())
    (live / "cert.pem").write_text((pki / "server2_certificate.pem").read_text())
    assert wait_for(port, der(pki / "server2_certificate.pem"), 5)


def test_a_half_written_pair_keeps_the_old_certificate_until_the_pair_matches(tls_server, tmp_path):
    _, port, pki, live = tls_server
    (live / "cert.pem").write_text((pki / "server2_certificate.pem").read_text())
    time.sleep(2.5)  # at least two checks with a certificate that does not match the key
    assert served_certificate(port) == der(pki / "server_certificate.pem")
    log = next(tmp_path.glob("data.*.log")).read_text()
    assert "TLS certificate not reloaded, still using the previous one" in log
    (live / "key.pem").write_text((pki / "server2_key.pem").read_text())
    assert wait_for(port, der(pki / "server2_certificate.pem"), 5)
