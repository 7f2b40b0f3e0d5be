"""Telemetry's stored events: zstd from now on, and events stored zlib-compressed still read."""

from __future__ import annotations

import threading
import zlib

from infrastructure.compression import ZSTD_MAGIC, BatchCompressor

BATCH = b'[{"event_id":"01912345-6789-7abc-def0-123456789abc","name":"report_exported"}]' * 500


def test_batches_are_stored_as_zstd_and_read_back_whole() -> None:
    compressor = BatchCompressor()
    stored = compressor.compress(BATCH)
    assert stored.startswith(ZSTD_MAGIC) and len(stored) < len(BATCH) // 10
    assert compressor.decompress(stored) == BATCH


def test_events_stored_with_zlib_before_the_switch_still_read() -> None:
    for level in (1, 6, 9):
        assert BatchCompressor().decompress(zlib.compress(BATCH, level)) == BATCH


def test_threads_compress_side_by_side() -> None:
    compressor = BatchCompressor()
    results: list[bool] = []

    def work(n: int) -> None:
        data = BATCH + str(n).encode()
        results.extend(compressor.decompress(compressor.compress(data)) == data for _ in range(20))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [True] * 80
