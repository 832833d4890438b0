"""warren-server as a process: start-up, configuration errors, and shutdown on signals."""
import signal
import threading

import pika
import pytest

from conftest import free_port, run_server, wait_exit


def test_server_prints_ready_line_and_accepts_a_client(start_server):
    server = start_server()
    conn = pika.BlockingConnection(pika.URLParameters(server.url))
    assert conn.is_open
    conn.close()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_server_closes_clients_with_320_and_exits_0_on_signal(start_server, sig):
    server = start_server()
    conn = pika.BlockingConnection(pika.URLParameters(server.url))
    ch = conn.channel()
    threading.Timer(0.3, server.proc.send_signal, args=(sig,)).start()
    with pytest.raises(pika.exceptions.ConnectionClosedByBroker) as closed:
        while True:
            conn.process_data_events(time_limit=0.2)
            ch.queue_declare("", exclusive=True)
    assert closed.value.reply_code == 320
    assert closed.value.reply_text == "CONNECTION_FORCED - broker forced connection closure with reason 'shutdown'"
    assert wait_exit(server.proc) == 0


def test_config_file_sets_listener(binary, tmp_path):
    port, management, prometheus = free_port(), free_port(), free_port()
    config = tmp_path / "warren.conf"
    config.write_text(f"# test\nlisteners.tcp.default = 127.0.0.1:{port}\nheartbeat = 30 # seconds\n"
                      f"management.tcp.port = {management}\nmanagement.tcp.ip = 127.0.0.1\n"
                      f"prometheus.tcp.port = {prometheus}\nprometheus.tcp.ip = 127.0.0.1\n"
                      "collect_statistics_interval = 1000\n")
    import subprocess
    import urllib.request
    proc = subprocess.Popen([binary, "--config", str(config), "--data-dir", str(tmp_path / "d")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        ready = proc.stdout.readline()
        assert f"amqp 127.0.0.1:{port}" in ready
        assert f"http 127.0.0.1:{management}" in ready and f"prometheus 127.0.0.1:{prometheus}" in ready
        conn = pika.BlockingConnection(pika.URLParameters(f"amqp://guest:guest@127.0.0.1:{port}/%2F"))
        assert conn._impl.params.heartbeat == 30
        conn.close()
        with urllib.request.urlopen(f"http://127.0.0.1:{prometheus}/metrics", timeout=10) as metrics:
            assert b"rabbitmq_connections" in metrics.read()
    finally:
        proc.kill()
        proc.wait()


def test_unknown_config_key_fails_startup_naming_the_line(binary, tmp_path):
    config = tmp_path / "warren.conf"
    config.write_text("heartbeat = 10\n\nno_such_key = 1\n")
    result = run_server(binary, "--config", str(config), "--data-dir", str(tmp_path / "d"))
    assert result.returncode == 78
    assert "line 3" in result.stderr and "unknown key 'no_such_key'" in result.stderr


def test_bad_config_value_fails_startup_naming_the_line(binary, tmp_path):
    config = tmp_path / "warren.conf"
    config.write_text("frame_max = 100\n")
    result = run_server(binary, "--config", str(config), "--data-dir", str(tmp_path / "d"))
    assert result.returncode == 78
    assert "line 1" in result.stderr and "frame_max" in result.stderr


def test_missing_config_file_is_a_clear_error(binary, tmp_path):
    result = run_server(binary, "--config", str(tmp_path / "absent.conf"))
    assert result.returncode == 78
    assert "cannot read configuration file" in result.stderr


def test_unknown_flag_is_a_usage_error(binary):
    result = run_server(binary, "--no-such-flag")
    assert result.returncode != 0
    assert "no-such-flag" in result.stderr
