"""How Telemetry's stored events are compressed: Zstandard at level 1.

Batch events carry up to 1 MB of JSON, and zstd at level 1 makes it smaller, faster, than zlib at
any level we tried (docs/performance.md, "Measurements behind the code"). Events stored
by earlier versions, compressed with zlib, still read: every zlib stream starts with a header byte
whose low nibble is 8 (deflate), while every zstd frame starts with its magic number 0xFD2FB528.
"""

from __future__ import annotations

import threading
import zlib

import zstandard
from eventsourcing.compressor import Compressor

ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


class BatchCompressor(Compressor):
    def __init__(self) -> None:
        # zstandard's (de)compressor objects are not thread-safe: one of each per thread.
        self._local = threading.local()

    def _codec(self) -> threading.local:
        local = self._local
        if not hasattr(local, "compressor"):
            local.compressor = zstandard.ZstdCompressor(level=1)
            local.decompressor = zstandard.ZstdDecompressor()
        return local

    def compress(self, data: bytes) -> bytes:
        return self._codec().compressor.compress(data)

    def decompress(self, data: bytes) -> bytes:
        if data[:4] == ZSTD_MAGIC:
            return self._codec().decompressor.decompress(data)
        return zlib.decompress(data)  # stored before the switch to zstd
