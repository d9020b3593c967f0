"""Where photo bytes live: one small interface, `BlobStorage`, and its local-directory backend.

Photos are content-addressed. Every stored file (an original upload, its display derivative,
its thumbnail) is named by the sha256 of its own bytes, so a key never changes meaning: the
same key always holds the same bytes, writes are idempotent and nothing is ever overwritten
with something else. That makes the interface small and easy to implement on an object store
later (DESIGN §7, "Interfaces before implementations"): the upload and serving code depend
only on `BlobStorage`, `storage_for` picks the backend from settings, and
tests/media/test_storage.py is the contract every backend must pass.

The local backend keeps the files under a directory (default var/media) in two fan-out levels,
`ab/cd/abcd…`, so no directory grows past 65,536 entries. Writes go to a uniquely named temp
file beside the final name, are fsynced and then renamed into place, so a reader sees either
no file or the whole file, never a part of one. All file I/O runs in worker threads, off the
event loop.
"""

from __future__ import annotations

import errno
import io
import os
import re
import stat
import tempfile
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Protocol, runtime_checkable

import anyio.to_thread

from api.errors import NotFoundError
from api.settings import Settings

_SHA256 = re.compile(r"[0-9a-f]{64}")
_KEY = re.compile(r"([0-9a-f]{2})/([0-9a-f]{2})/\1\2[0-9a-f]{60}")
_TEMP_PREFIX = ".tmp-"  # never matches _KEY, so a temp file can never be read as a blob
_DIR_MODE = 0o750
_FILE_MODE = 0o640
_COPY_CHUNK = 1 << 20


def blob_key(sha256: str) -> str:
    """The storage key of the file whose sha256 (64 lowercase hex characters) is given.

    'abcd…' → 'ab/cd/abcd…'. Anything else raises ValueError, so a key built here can never
    name a place outside the store ('..', '/', NUL, uppercase, a trailing newline)."""
    if not isinstance(sha256, str) or not _SHA256.fullmatch(sha256):
        raise ValueError("a blob is named by 64 lowercase hex characters (its sha256)")
    return f"{sha256[:2]}/{sha256[2:4]}/{sha256}"


def check_key(key: str) -> str:
    """`key` itself if it is one `blob_key` can return; ValueError otherwise."""
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        raise ValueError("not a blob key: expected 'ab/cd/abcd…' as made by blob_key()")
    return key


class BlobMissingError(NotFoundError):
    """The store has no file under this key (never written, or deleted)."""

    def __init__(self, key: str) -> None:
        super().__init__(f"no stored file {key}", key=key)
        self.key = key


@runtime_checkable
class BlobStorage(Protocol):
    """Content-addressed file storage. Every backend passes tests/media/test_storage.py.

    Keys are the strings `blob_key` makes; every method raises ValueError for anything else
    before touching the store. Because a key is the hash of its bytes, a key that exists
    already holds the right bytes: writing it again changes nothing. The caller computes the
    hash; a backend does not re-hash what it is given.
    """

    async def put(self, key: str, data: bytes) -> None:
        """Store `data` under `key`, atomically: readers see no file or the whole file.

        If the key exists it is left as it is (same key, same bytes). Concurrent puts of the
        same key are safe and end with one intact file."""
        ...

    async def put_file(self, key: str, source: Path) -> None:
        """Take the local file `source` in under `key`, atomically, and consume it.

        `source` is moved (or copied, then deleted) into the store; if the key already exists
        it is left as it is and `source` is deleted all the same. If taking the file in fails,
        `source` is left where it was. A missing source raises FileNotFoundError, one that is
        not a regular file (a symlink) ValueError."""
        ...

    async def exists(self, key: str) -> bool:
        """Whether a complete file is stored under `key`."""
        ...

    async def size(self, key: str) -> int:
        """The stored file's length in bytes; BlobMissingError if there is none."""
        ...

    def read(
        self, key: str, start: int = 0, end: int | None = None, chunk_size: int = 65536
    ) -> AsyncGenerator[bytes, None]:
        """Stream bytes [start, end) of the stored file in chunks of at most `chunk_size`.

        `end=None` means to the end of the file. The range is clipped to the file: an `end`
        past the size stops at the size, and a `start` at or past the size (or `end == start`)
        yields no chunks at all. No chunk is empty. `start < 0`, `end < start` or
        `chunk_size < 1` raise ValueError; HTTP range arithmetic (media/ranges.py) happens
        before this is called. A missing file raises BlobMissingError, at the latest on the
        first iteration. Close the iterator (`contextlib.aclosing`) if you stop early."""
        ...

    async def delete(self, key: str) -> None:
        """Remove the file under `key`; a missing file is not an error."""
        ...

    async def ping(self) -> None:
        """Check the store can be written now (a health check); raise OSError if not."""
        ...


def _check_read_arguments(start: int, end: int | None, chunk_size: int) -> None:
    if start < 0:
        raise ValueError(f"read start must not be negative, got {start}")
    if end is not None and end < start:
        raise ValueError(f"read end {end} is before start {start}")
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be positive, got {chunk_size}")


def _write_all(fd: int, data: bytes | memoryview) -> None:
    """Write every byte of `data` to `fd` (os.write may write less than it is given)."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view[:_COPY_CHUNK])
        view = view[written:]


def _fsync_directory(path: Path) -> None:
    """Make a rename inside `path` durable (POSIX; a no-op where directories cannot be opened)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems refuse fsync on a directory; the rename itself is done
    finally:
        os.close(fd)


class LocalBlobStorage:
    """`BlobStorage` over a local directory: `<root>/ab/cd/abcd…`.

    Safe for several processes on one host sharing the directory: temp names come from
    `tempfile.mkstemp` (O_EXCL, random), and the final rename is atomic. A crash between
    creating a temp file and renaming it can leave a `.tmp-*` file behind; it is never read
    as a blob."""

    def __init__(self, root: Path) -> None:
        # absolute, not resolved: the root itself may be a symlink to a mounted volume; keys
        # are checked to be plain 'ab/cd/<hex>', so no path below the root can leave it.
        self.root = Path(root).absolute()

    def __repr__(self) -> str:
        return f"LocalBlobStorage({str(self.root)!r})"

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def _make_directories(self, directory: Path) -> None:
        """Create root/ab/cd as needed, each level with owner+group permissions only."""
        self.root.mkdir(mode=_DIR_MODE, parents=True, exist_ok=True)
        relative = directory.relative_to(self.root)
        level = self.root
        for part in relative.parts:
            level = level / part
            level.mkdir(mode=_DIR_MODE, exist_ok=True)

    def _temp_file(self, directory: Path) -> tuple[int, Path]:
        """A new, uniquely named, empty temp file in `directory` (created if needed)."""
        try:
            fd, name = tempfile.mkstemp(prefix=_TEMP_PREFIX, dir=directory)
        except FileNotFoundError:
            self._make_directories(directory)
            fd, name = tempfile.mkstemp(prefix=_TEMP_PREFIX, dir=directory)
        return fd, Path(name)

    def _commit(self, fd: int, temp: Path, path: Path) -> None:
        """fsync the temp file, close it and rename it to `path`; remove it on any failure."""
        try:
            try:
                os.fchmod(fd, _FILE_MODE)
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(temp, path)  # same bytes if another writer got there first
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        _fsync_directory(path.parent)

    def _put_sync(self, path: Path, data: bytes) -> None:
        if path.exists():
            return
        fd, temp = self._temp_file(path.parent)
        try:
            _write_all(fd, data)
        except BaseException:
            os.close(fd)
            temp.unlink(missing_ok=True)
            raise
        self._commit(fd, temp, path)

    def _copy_in_sync(self, source: Path, path: Path) -> None:
        """Copy `source` to `path` through a temp file (for a source on another file system)."""
        fd, temp = self._temp_file(path.parent)
        try:
            with open(source, "rb") as reader:
                while chunk := reader.read(_COPY_CHUNK):
                    _write_all(fd, chunk)
        except BaseException:
            os.close(fd)
            temp.unlink(missing_ok=True)
            raise
        self._commit(fd, temp, path)

    def _put_file_sync(self, source: Path, path: Path) -> None:
        if not stat.S_ISREG(source.lstat().st_mode):  # a symlink would point out of the store
            raise ValueError(f"only a regular file can be stored, not {source}")
        if path.exists():
            source.unlink()
            return
        # Make the bytes durable under their current name before the rename publishes them.
        with open(source, "rb") as handle:
            os.fchmod(handle.fileno(), _FILE_MODE)
            os.fsync(handle.fileno())
        if not path.parent.is_dir():
            self._make_directories(path.parent)
        try:
            os.replace(source, path)
        except OSError as error:
            if error.errno != errno.EXDEV:
                raise
            self._copy_in_sync(source, path)
            source.unlink()
        _fsync_directory(path.parent)

    async def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        await anyio.to_thread.run_sync(self._put_sync, path, bytes(data))

    async def put_file(self, key: str, source: Path) -> None:
        path = self._path(key)
        await anyio.to_thread.run_sync(self._put_file_sync, Path(source), path)

    async def exists(self, key: str) -> bool:
        path = self._path(key)
        return await anyio.to_thread.run_sync(path.is_file)

    async def size(self, key: str) -> int:
        path = self._path(key)
        try:
            stat = await anyio.to_thread.run_sync(path.stat)
        except FileNotFoundError:
            raise BlobMissingError(key) from None
        return stat.st_size

    async def read(
        self, key: str, start: int = 0, end: int | None = None, chunk_size: int = 65536
    ) -> AsyncGenerator[bytes, None]:
        path = self._path(key)
        _check_read_arguments(start, end, chunk_size)
        try:
            handle, size = await anyio.to_thread.run_sync(_open_for_reading, path)
        except FileNotFoundError:
            raise BlobMissingError(key) from None
        try:
            stop = size if end is None else min(end, size)
            position = min(start, stop)
            # One thread hop per chunk (measured: ~0.1 ms per 64 KiB chunk from the page
            # cache, 25 MB in ~40 ms, the same as anyio.open_file; event-loop gaps stay
            # ~0.1 ms). A caller streaming large files may pass a bigger chunk_size.
            while position < stop:
                chunk = await anyio.to_thread.run_sync(
                    _read_at, handle, position, min(chunk_size, stop - position)
                )
                if not chunk:  # the file shrank under us; stored files never should
                    break
                position += len(chunk)
                yield chunk
        finally:
            handle.close()  # closing a read-only file does not block; safe in a finalizer

    async def delete(self, key: str) -> None:
        path = self._path(key)
        await anyio.to_thread.run_sync(lambda: path.unlink(missing_ok=True))

    async def ping(self) -> None:
        await anyio.to_thread.run_sync(self._ping_sync)

    def _ping_sync(self) -> None:
        self.root.mkdir(mode=_DIR_MODE, parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=_TEMP_PREFIX + "ping-", dir=self.root)
        try:
            _write_all(fd, b"ping")
            os.fsync(fd)
        finally:
            os.close(fd)
            os.unlink(temp)


def _open_for_reading(path: Path) -> tuple[io.FileIO, int]:
    handle = open(path, "rb", buffering=0)  # noqa: SIM115 - closed by the read generator
    try:
        size = os.fstat(handle.fileno()).st_size
    except BaseException:
        handle.close()
        raise
    return handle, size


def _read_at(handle: io.FileIO, position: int, count: int) -> bytes:
    handle.seek(position)
    return handle.read(count) or b""


def storage_for(settings: Settings) -> BlobStorage:
    """The backend `FIELDLOOP_MEDIA_STORAGE` names ("local": a directory, `media_root`)."""
    if settings.media_storage == "local":
        return LocalBlobStorage(settings.media_root)
    raise ValueError(f"unknown media storage backend {settings.media_storage!r}")


__all__ = [
    "BlobMissingError",
    "BlobStorage",
    "LocalBlobStorage",
    "blob_key",
    "check_key",
    "storage_for",
]
