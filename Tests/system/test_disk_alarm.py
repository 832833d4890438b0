"""The disk alarm on a nearly full filesystem: the data directory lives on a small tmpfs, the free
space limit is set high, and a persistent publisher fills it until the alarm blocks it. The broker
must stay up, and after a restart every confirmed message must be there, uncorrupted.

Needs permission to mount a tmpfs (root, as on the CI machines); skipped otherwise.
"""
import subprocess
import time

import pika
import pika.exceptions
import pytest

from conftest import launch

SIZE_MB = 128
FREE_LIMIT_MB = 96  # the alarm goes off once about 32 MB are used
BODY = b"x" * 4096


@pytest.fixture
def small_filesystem(tmp_path):
    mount_point = tmp_path / "small"
    mount_point.mkdir()
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={SIZE_MB}m", "tmpfs", str(mount_point)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.strip()}")
    yield mount_point
    subprocess.run(["umount", "-l", str(mount_point)], capture_output=True)




@pytest.mark.timeout(120)
def test_disk_alarm_blocks_publishers_before_the_disk_fills_and_nothing_is_lost(binary, small_filesystem, tmp_path):
    config = tmp_path / "disk.conf"
    config.write_text(f"disk_free_limit.absolute = {FREE_LIMIT_MB}MB\n")
    data_dir = small_filesystem / "data"
    server = launch(binary, data_dir, "--config", str(config))
    confirmed = 0
    try:
        # A blocked publisher waits for a confirm that cannot come (the broker stopped reading
        # from it); pika's blocked_connection_timeout starts when connection.blocked arrives.
        conn = pika.BlockingConnection(pika.URLParameters(server.url + "?blocked_connection_timeout=3"))
        ch = conn.channel()
        ch.confirm_delivery()
        ch.queue_declare("fill", durable=True)
        deadline = time.monotonic() + 60
        with pytest.raises(pika.exceptions.ConnectionBlockedTimeout):
            while time.monotonic() < deadline:
                ch.basic_publish("", "fill", BODY, pika.BasicProperties(delivery_mode=2))
                confirmed += 1
        assert server.proc.poll() is None, "the broker died"
        usage = subprocess.run(["df", "-m", str(small_filesystem)], capture_output=True, text=True).stdout
        used_mb = int(usage.splitlines()[1].split()[2])
        assert used_mb < SIZE_MB - 8, f"the disk filled up ({used_mb} MB used) before publishers were blocked"
    finally:
        server.stop()

    plain = tmp_path / "plain.conf"
    plain.write_text("")
    server = launch(binary, data_dir, "--config", str(plain))
    try:
        conn = pika.BlockingConnection(pika.URLParameters(server.url))
        ch = conn.channel()
        count = ch.queue_declare("fill", durable=True).method.message_count
        assert count >= confirmed
        for _ in range(count):
            method, _props, body = ch.basic_get("fill", auto_ack=True)
            assert body == BODY
        conn.close()
    finally:
        server.stop()
