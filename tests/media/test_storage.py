"""The `BlobStorage` contract, run against every backend, plus what only the local one promises.

`BlobStorageContract` is the behaviour the upload and serving code rely on. A new backend (an
object store) passes by adding one subclass that provides the `storage` fixture and
`stored_names`; nothing else here should need to change.
"""

from __future__ import annotations

import asyncio
import dataclasses
import errno
import hashlib
import os
import stat
from collections.abc import Awaitable, Callable
from contextlib import aclosing
from pathlib import Path

import pytest

from api.errors import NotFoundError
from api.settings import load_settings
from media import storage as storage_module
from media.storage import BlobMissingError, BlobStorage, LocalBlobStorage, blob_key, storage_for


def key_of(data: bytes) -> str:
    return blob_key(hashlib.sha256(data).hexdigest())


DATA = bytes(range(256)) * 4  # 1,024 bytes, every value, so a shifted slice cannot pass
KEY = key_of(DATA)


async def read_all(storage: BlobStorage, key: str, start: int = 0, end: int | None = None) -> bytes:
    return b"".join([chunk async for chunk in storage.read(key, start, end)])


BAD_KEYS = [
    "../etc/passwd",
    "/etc/passwd",
    "ab/cd/../../../etc/passwd",
    "",
    "AB/CD/ABCD" + "E" * 60,  # uppercase
    "ab/cd/abcd" + "e" * 59,  # 63 hex characters
    "ab/cd/abcd" + "e" * 61,  # 65
    "ab/cd/" + "ff" * 32,  # fan-out does not match the name
    "ab" + "c" * 62,  # a bare hash, no fan-out
    "ab/cd/abcd" + "e" * 60 + "\n",
    "ab/cd/abcd" + "e" * 59 + "\x00",
    "ab\\cd\\abcd" + "e" * 60,
]


class BlobStorageContract:
    """Every `BlobStorage` backend must pass these; subclass and provide the two hooks."""

    @pytest.fixture
    def storage(self) -> BlobStorage:
        raise NotImplementedError("a backend's test class provides the storage fixture")

    def stored_names(self, storage: BlobStorage) -> set[str]:
        """Every object the backend holds, whatever its name (temp files included)."""
        raise NotImplementedError

    @pytest.fixture
    async def stored(self, storage: BlobStorage) -> BlobStorage:
        """The store with DATA under KEY."""
        await storage.put(KEY, DATA)
        return storage

    def test_the_backend_has_every_method(self, storage: BlobStorage) -> None:
        assert isinstance(storage, BlobStorage)

    @pytest.mark.parametrize(
        ("start", "end", "expected"),
        [
            (0, None, DATA),
            (10, None, DATA[10:]),
            (10, 20, DATA[10:20]),
            (1023, None, DATA[1023:]),
            (10, 10, b""),  # empty range
            (1000, 5000, DATA[1000:]),  # end past the size: clipped
            (0, 10**12, DATA),
            (1024, None, b""),  # start at the size: nothing
            (5000, 6000, b""),  # start past it: nothing
        ],
    )
    async def test_read_of_a_range(
        self, stored: BlobStorage, start: int, end: int | None, expected: bytes
    ) -> None:
        assert await read_all(stored, KEY, start=start, end=end) == expected

    async def test_read_chunks_are_non_empty_and_at_most_chunk_size(
        self, stored: BlobStorage
    ) -> None:
        chunks = [chunk async for chunk in stored.read(KEY, start=3, chunk_size=7)]
        assert b"".join(chunks) == DATA[3:]
        assert all(1 <= len(chunk) <= 7 for chunk in chunks)

    @pytest.mark.parametrize(("start", "end", "chunk_size"), [(-1, None, 1), (5, 4, 1), (0, 9, 0)])
    async def test_read_refuses_impossible_arguments(
        self, stored: BlobStorage, start: int, end: int | None, chunk_size: int
    ) -> None:
        with pytest.raises(ValueError):
            await anext(stored.read(KEY, start, end, chunk_size))

    async def test_reading_can_stop_early(self, stored: BlobStorage) -> None:
        async with aclosing(stored.read(KEY, chunk_size=100)) as chunks:
            assert await anext(chunks) == DATA[:100]
        await stored.delete(KEY)
        assert not await stored.exists(KEY)

    async def test_size_and_exists(self, storage: BlobStorage) -> None:
        assert not await storage.exists(KEY)
        await storage.put(KEY, DATA)
        await storage.put(key_of(b""), b"")  # an empty file is a file too
        assert await storage.exists(KEY) and await storage.exists(key_of(b""))
        assert await storage.size(KEY) == len(DATA)
        assert await storage.size(key_of(b"")) == 0
        assert [chunk async for chunk in storage.read(key_of(b""))] == []

    async def test_put_of_an_existing_key_leaves_the_file(self, stored: BlobStorage) -> None:
        await stored.put(KEY, DATA)
        await stored.put(KEY, b"not the bytes this key names")  # never overwritten
        assert await read_all(stored, KEY) == DATA
        assert self.stored_names(stored) == {KEY}

    async def test_put_file_takes_the_file_in_and_consumes_it(
        self, storage: BlobStorage, tmp_path: Path
    ) -> None:
        source = tmp_path / "upload-1"
        source.write_bytes(DATA)
        await storage.put_file(KEY, source)
        assert not source.exists()
        assert await read_all(storage, KEY) == DATA
        assert self.stored_names(storage) == {KEY}

    async def test_put_file_of_an_existing_key_deletes_the_source(
        self, stored: BlobStorage, tmp_path: Path
    ) -> None:
        source = tmp_path / "upload-2"
        source.write_bytes(b"not the bytes this key names")
        await stored.put_file(KEY, source)
        assert not source.exists()
        assert await read_all(stored, KEY) == DATA

    async def test_put_file_of_a_missing_source_fails_and_stores_nothing(
        self, storage: BlobStorage, tmp_path: Path
    ) -> None:
        with pytest.raises(FileNotFoundError):
            await storage.put_file(KEY, tmp_path / "never-written")
        assert not await storage.exists(KEY)

    async def test_concurrent_writes_of_one_key_leave_one_intact_file(
        self, storage: BlobStorage, tmp_path: Path
    ) -> None:
        data = os.urandom(300_000)
        key = key_of(data)
        sources = [tmp_path / f"upload-{n}" for n in range(10)]
        for source in sources:
            source.write_bytes(data)
        await asyncio.gather(
            *(storage.put(key, data) for _ in range(10)),
            *(storage.put_file(key, source) for source in sources),
        )
        assert not any(source.exists() for source in sources)
        assert await read_all(storage, key) == data
        assert self.stored_names(storage) == {key}

    async def test_concurrent_puts_of_many_keys(self, storage: BlobStorage) -> None:
        blobs = [os.urandom(1000) for _ in range(40)]  # several share a fan-out directory
        await asyncio.gather(*(storage.put(key_of(blob), blob) for blob in blobs))
        assert self.stored_names(storage) == {key_of(blob) for blob in blobs}
        for blob in blobs:
            assert await read_all(storage, key_of(blob)) == blob

    async def test_readers_see_all_of_a_file_or_none_of_it(self, storage: BlobStorage) -> None:
        data = os.urandom(2_000_000)
        key = key_of(data)

        async def read_whole_or_nothing() -> bytes | None:
            try:
                return await read_all(storage, key)
            except BlobMissingError:
                return None

        results = await asyncio.gather(
            *(storage.put(key, data) for _ in range(5)),
            *(read_whole_or_nothing() for _ in range(20)),
        )
        assert {result for result in results[5:]} <= {None, data}

    async def test_missing_key_raises_blob_missing(self, storage: BlobStorage) -> None:
        with pytest.raises(BlobMissingError) as raised:
            await read_all(storage, KEY)
        assert isinstance(raised.value, NotFoundError)
        assert raised.value.status_code == 404
        assert raised.value.detail == f"no stored file {KEY}"
        with pytest.raises(BlobMissingError):
            await storage.size(KEY)

    async def test_delete_removes_the_file(self, stored: BlobStorage) -> None:
        await stored.delete(KEY)
        assert not await stored.exists(KEY)
        with pytest.raises(BlobMissingError):
            await stored.size(KEY)
        await stored.delete(KEY)  # a missing key is fine
        await stored.put(KEY, DATA)  # and it can come back
        assert await read_all(stored, KEY) == DATA
        assert self.stored_names(stored) == {KEY}

    @pytest.mark.parametrize("key", BAD_KEYS)
    async def test_every_method_refuses_an_invalid_key(
        self, storage: BlobStorage, tmp_path: Path, key: str
    ) -> None:
        source = tmp_path / "upload"
        source.write_bytes(DATA)
        calls: list[Callable[[], Awaitable[object]]] = [  # lambdas: each awaited once
            lambda: storage.put(key, DATA),
            lambda: storage.put_file(key, source),
            lambda: storage.exists(key),
            lambda: storage.size(key),
            lambda: storage.delete(key),
            lambda: read_all(storage, key),
        ]
        for call in calls:
            with pytest.raises(ValueError):
                await call()
        assert source.exists()
        assert self.stored_names(storage) == set()

    async def test_ping_and_writes_leave_no_temp_files(
        self, storage: BlobStorage, tmp_path: Path
    ) -> None:
        await storage.ping()
        assert self.stored_names(storage) == set()
        blobs = [DATA + bytes([n]) for n in range(5)]
        for blob in blobs:
            await storage.put(key_of(blob), blob)
        (tmp_path / "upload").write_bytes(b"from a file")
        await storage.put_file(key_of(b"from a file"), tmp_path / "upload")
        await storage.ping()
        assert self.stored_names(storage) == {key_of(b) for b in [*blobs, b"from a file"]}


class TestLocalBlobStorage(BlobStorageContract):
    @pytest.fixture
    def storage(self, tmp_path: Path) -> LocalBlobStorage:
        return LocalBlobStorage(tmp_path / "media")  # not created yet: the store makes it

    def stored_names(self, storage: BlobStorage) -> set[str]:
        assert isinstance(storage, LocalBlobStorage)
        return {path.relative_to(storage.root).as_posix() for path in files_under(storage.root)}


def files_under(root: Path) -> list[Path]:
    """Every non-directory below `root` (temp files and symlinks included)."""
    return [path for path in root.rglob("*") if not path.is_dir()]


# --- keys -----------------------------------------------------------------------------------

HASH = hashlib.sha256(b"photo").hexdigest()


def test_blob_key_fans_out_two_levels() -> None:
    assert blob_key(HASH) == f"{HASH[:2]}/{HASH[2:4]}/{HASH}"
    assert storage_module.check_key(blob_key(HASH)) == blob_key(HASH)


@pytest.mark.parametrize(
    "value",
    [
        "../etc/passwd",
        HASH.upper(),
        HASH[:63],
        HASH + "0",
        HASH + "\n",
        "",
        "g" * 64,
        None,
    ],
)
def test_blob_key_refuses_anything_but_a_sha256(value: object) -> None:
    with pytest.raises(ValueError):
        blob_key(value)  # type: ignore[arg-type]


# --- the local backend only -----------------------------------------------------------------


async def test_local_layout_and_permissions(tmp_path: Path) -> None:
    await LocalBlobStorage(tmp_path / "media").put(KEY, DATA)
    path = tmp_path / "media" / KEY
    assert path.read_bytes() == DATA
    for directory in (path.parent, path.parent.parent, tmp_path / "media"):
        assert stat.S_IMODE(directory.stat().st_mode) & 0o027 == 0  # nothing for others
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def _break_write(monkeypatch: pytest.MonkeyPatch, number: int) -> None:
    """Make the store's `number`th write fail half-way through, as a full disk would."""
    real_write_all = storage_module._write_all
    calls = 0

    def write(fd: int, chunk: bytes | memoryview) -> None:
        nonlocal calls
        calls += 1
        real_write_all(fd, chunk if calls != number else chunk[: len(chunk) // 2])
        if calls == number:
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(storage_module, "_write_all", write)


async def test_local_put_interrupted_mid_write_leaves_no_partial_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = LocalBlobStorage(tmp_path)
    data = os.urandom(100_000)
    key = key_of(data)
    _break_write(monkeypatch, 1)
    with pytest.raises(OSError, match="No space"):
        await storage.put(key, data)
    assert files_under(tmp_path) == []

    monkeypatch.undo()
    await storage.put(key, data)
    assert (tmp_path / key).read_bytes() == data


def _cross_device_for(source: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make renaming `source` fail as it would from another file system."""
    real_replace = os.replace

    def replace(src: os.PathLike[str] | str, dst: os.PathLike[str] | str) -> None:
        if Path(src) == source:
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)


async def test_local_put_file_copies_from_another_file_system(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = LocalBlobStorage(tmp_path / "media")
    data = os.urandom(3_000_000)  # several copy chunks
    source = tmp_path / "upload"
    source.write_bytes(data)
    _cross_device_for(source, monkeypatch)
    _break_write(monkeypatch, 2)
    with pytest.raises(OSError, match="No space"):
        await storage.put_file(key_of(data), source)
    assert source.read_bytes() == data  # a failed copy leaves the source and no partial file
    assert files_under(tmp_path / "media") == []

    monkeypatch.undo()
    _cross_device_for(source, monkeypatch)
    await storage.put_file(key_of(data), source)
    assert files_under(tmp_path) == [tmp_path / "media" / key_of(data)]
    assert (tmp_path / "media" / key_of(data)).read_bytes() == data


async def test_local_put_file_refuses_a_symlink(tmp_path: Path) -> None:
    (tmp_path / "elsewhere").write_bytes(DATA)
    (tmp_path / "upload").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(ValueError, match="regular file"):
        await LocalBlobStorage(tmp_path / "media").put_file(KEY, tmp_path / "upload")
    assert (tmp_path / "upload").is_symlink()
    assert not (tmp_path / "media" / KEY).exists()


async def test_local_ping_fails_when_the_root_cannot_be_a_directory(tmp_path: Path) -> None:
    root = tmp_path / "media"
    root.write_text("a file where the media directory should be")
    with pytest.raises(OSError):
        await LocalBlobStorage(root).ping()


def test_storage_for_picks_the_backend_from_settings(tmp_path: Path) -> None:
    secret = "k" * 32
    settings = load_settings({"FIELDLOOP_VAR_DIR": str(tmp_path), "FIELDLOOP_SECRET_KEY": secret})
    storage = storage_for(settings)
    assert isinstance(storage, LocalBlobStorage)
    assert storage.root == (tmp_path / "media").absolute()
    with pytest.raises(ValueError, match="unknown media storage"):
        storage_for(dataclasses.replace(settings, media_storage="s3"))
