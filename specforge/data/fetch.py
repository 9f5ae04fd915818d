"""Download a data file on first use: checked by SHA-256, cached, never half-written.

What ``keras.datasets`` and ``sklearn.datasets`` do, with the stdlib's urllib:

* the cache is ``$SPECFORGE_DATA_HOME`` (default ``~/.specforge/datasets``),
  one folder per data set; a dataset may also name other caches
  (Keras', scikit-learn's) whose copy is used when its checksum is right;
* every file, downloaded or found, is checked against its SHA-256; a file in
  the cache that fails the check is downloaded again, one in another cache is
  left alone;
* a download goes to a temporary file in the cache folder and is moved into
  place (``os.replace``) only once complete and verified, so an interrupted or
  corrupted download never enters the cache;
* transient failures (connection reset or closed mid-body, a stalled server,
  HTTP 5xx, 408, 429) are retried with exponential backoff; a 404, a refused
  connection or an unknown host are not;
* ``$SPECFORGE_DATASETS_MIRROR`` (a base URL) replaces every canonical URL by
  ``<mirror>/<file name>``; ``$SPECFORGE_DOWNLOAD_TIMEOUT`` (seconds, default
  :data:`DEFAULT_TIMEOUT_S`) is how long a silent server is waited for;
* a progress bar (tqdm) goes to stderr only when stderr is a terminal.

Every failure is a :class:`~specforge.data.dataset.DataError` (exit code 2)
naming the URL and the cache folder and saying how to place the file by hand.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import math
import os
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Any

from .dataset import DataError

__all__ = [
    "DATA_HOME_ENV",
    "DEFAULT_TIMEOUT_S",
    "MIRROR_ENV",
    "TIMEOUT_ENV",
    "RemoteFile",
    "data_home",
    "fetch",
    "file_sha256",
    "source_url",
]

DATA_HOME_ENV = "SPECFORGE_DATA_HOME"
MIRROR_ENV = "SPECFORGE_DATASETS_MIRROR"
TIMEOUT_ENV = "SPECFORGE_DOWNLOAD_TIMEOUT"

#: Seconds without a byte from the server before an attempt is given up.
DEFAULT_TIMEOUT_S = 30.0
#: Attempts after the first one, for transient failures only.
RETRIES = 3
#: Wait before the first retry; doubled for each further one.
BACKOFF_S = 1.0

_CHUNK = 1 << 16


@dataclass(frozen=True)
class RemoteFile:
    """A file to fetch: its name in the cache (and on a mirror), its canonical URL, its SHA-256."""

    name: str
    url: str
    sha256: str


def data_home() -> str:
    """The cache root: ``$SPECFORGE_DATA_HOME``, else ``~/.specforge/datasets`` (not created)."""
    home = os.environ.get(DATA_HOME_ENV) or os.path.join("~", ".specforge", "datasets")
    return os.path.abspath(os.path.expanduser(home))


def file_sha256(path: str) -> str:
    """The SHA-256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _timeout() -> float:
    raw = os.environ.get(TIMEOUT_ENV)
    if not raw:
        return DEFAULT_TIMEOUT_S
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not (value > 0 and math.isfinite(value)):
        raise DataError(
            f"{TIMEOUT_ENV}={raw!r} is not a number of seconds",
            help=f"set {TIMEOUT_ENV} to a positive number, or unset it for {DEFAULT_TIMEOUT_S:g} s",
        )
    return value


def source_url(file: RemoteFile) -> str:
    """Where ``file`` is downloaded from: the mirror if one is set, else its canonical URL."""
    mirror = os.environ.get(MIRROR_ENV)
    if not mirror:
        return file.url
    return mirror.rstrip("/") + "/" + urllib.parse.quote(file.name)


def _verified(path: str, sha256: str) -> bool:
    try:
        return os.path.isfile(path) and file_sha256(path) == sha256
    except OSError:
        return False


def fetch(file: RemoteFile, folder: str, *, reuse: Sequence[str] = (), what: str = "") -> str:
    """The path of a verified copy of ``file``, downloading it into the cache if needed.

    ``folder`` is the cache sub-folder (``fashion-mnist``); ``reuse`` lists
    other folders (Keras', scikit-learn's caches) whose copy of ``file.name``
    is used if its checksum is right; ``what`` names the data set in messages.
    """
    cache_dir = os.path.join(data_home(), folder)
    target = os.path.join(cache_dir, file.name)
    places = [target, *(os.path.join(os.path.expanduser(d), file.name) for d in reuse)]
    for path in places:
        if _verified(path, file.sha256):
            return path
    _download(file, target, what or file.name, places)
    return target


# ---------------------------------------------------------------- download


class _Transient(Exception):
    """A failure worth another attempt."""


def _by_hand(file: RemoteFile, target: str) -> str:
    mirror = os.environ.get(MIRROR_ENV)
    first = (
        f"check that the mirror {mirror} is reachable and serves {file.name}"
        if mirror
        else f"check the network connection, or set {MIRROR_ENV} to a mirror's base URL"
    )
    return (
        f"{first}; or download {file.url} by hand and save it as {target} "
        f"(its SHA-256 must be {file.sha256})"
    )


def _download(file: RemoteFile, target: str, what: str, places: list[str]) -> None:
    """Download ``file`` to ``target``; ``places`` (where a copy was looked for) go in errors."""
    cache_dir = os.path.dirname(target)
    url = source_url(file)
    timeout = _timeout()
    created = not os.path.isdir(cache_dir)
    try:
        os.makedirs(cache_dir, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{file.name}.", suffix=".part", dir=cache_dir)
    except OSError as exc:
        raise DataError(
            f"cannot write to the data cache {cache_dir}: {exc.strerror or exc}",
            help=f"set {DATA_HOME_ENV} to a writable folder",
        ) from exc
    try:
        with os.fdopen(fd, "wb") as fh:
            digest = _attempts(url, fh, timeout, file, target, what, places)
        if digest != file.sha256:
            raise DataError(
                f"{file.name} downloaded from {url} failed its checksum: expected SHA-256 "
                f"{file.sha256}, got {digest}; the file was discarded",
                help="the download was damaged, or the server sent another file: try again; "
                + _by_hand(file, target),
                looked_in=places,
            )
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        if created:  # a failed first download leaves no empty folder behind
            with contextlib.suppress(OSError):
                os.rmdir(cache_dir)


def _attempts(
    url: str,
    fh: IO[bytes],
    timeout: float,
    file: RemoteFile,
    target: str,
    what: str,
    places: list[str],
) -> str:
    """Download ``url`` into ``fh`` (from its start at each attempt); return its SHA-256."""
    retries = max(0, RETRIES)
    for attempt in range(retries + 1):
        fh.seek(0)
        fh.truncate()
        try:
            return _attempt(url, fh, timeout, file.name)
        except (OSError, http.client.HTTPException, _Transient, ValueError) as exc:
            problem, transient = _classify(exc, timeout)
            if isinstance(exc, urllib.error.HTTPError):
                exc.close()  # it holds the error response
        if not transient:
            break
        if attempt < retries:
            time.sleep(BACKOFF_S * 2**attempt)
    else:
        if retries:
            problem += f" ({retries + 1} attempts)"
    raise DataError(
        f"cannot download {what} from {url}: {problem}",
        help=_by_hand(file, target),
        looked_in=places,
    )


def _classify(exc: BaseException, timeout: float) -> tuple[str, bool]:
    """What went wrong, in words, and whether another attempt may succeed."""
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code} {exc.reason}", exc.code in (408, 429) or exc.code >= 500
    if isinstance(exc, urllib.error.URLError):  # before the connection was made
        reason = exc.reason
        if isinstance(reason, TimeoutError):
            return f"no answer for {timeout:g} s (timed out)", True
        if isinstance(reason, (ConnectionResetError, ConnectionAbortedError)):
            return f"connection lost ({reason})", True
        # unknown host, connection refused, network unreachable, bad certificate
        text = reason.strerror if isinstance(reason, OSError) and reason.strerror else reason
        return str(text), False
    if isinstance(exc, TimeoutError):
        return f"the server sent nothing for {timeout:g} s (timed out)", True
    if isinstance(exc, (ConnectionError, http.client.HTTPException, _Transient)):
        return f"the download was interrupted ({exc or type(exc).__name__})", True
    return str(exc), False  # ValueError (a malformed URL), a local OSError


def _attempt(url: str, fh: IO[bytes], timeout: float, name: str) -> str:
    from specforge import __version__

    request = urllib.request.Request(url, headers={"User-Agent": f"specforge/{__version__}"})
    digest = hashlib.sha256()
    received = 0
    with urllib.request.urlopen(request, timeout=timeout) as response:
        length = response.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
        with _progress(total, name) as bar:
            while chunk := response.read(_CHUNK):
                fh.write(chunk)
                digest.update(chunk)
                received += len(chunk)
                bar.update(len(chunk))
    if total is not None and received < total:
        raise _Transient(f"got {received} of {total} bytes")
    fh.flush()
    return digest.hexdigest()


@contextlib.contextmanager
def _progress(total: int | None, name: str) -> Iterator[Any]:
    """A tqdm bar on stderr when it is a terminal; otherwise a bar that shows nothing."""
    from tqdm import tqdm

    shown = sys.stderr is not None and sys.stderr.isatty()
    with tqdm(
        total=total,
        desc=name,
        unit="B",
        unit_scale=True,
        unit_divisor=1024,
        file=sys.stderr,
        disable=not shown,
        leave=True,
    ) as bar:
        yield bar
