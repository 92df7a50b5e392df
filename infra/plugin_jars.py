"""The MirrorMaker 2 plugin of MSK Connect: jars pinned by SHA-256, fetched once.

`plugin_zip()` returns a zip of the pinned jars, built in a local cache
(`.cache/msk-connect/`, git-ignored). A jar is taken from the cache, else
from the local Maven repository (`~/.m2`, where the emulator's Kafka jars
also live), else downloaded from Maven Central; whatever its origin, its
SHA-256 must equal the pinned one or nothing is used. The zip is written
byte for byte the same every time (fixed entry dates and order), so its hash,
and with it the uploaded plugin, changes only when the pins do. Nothing is
downloaded once the cache holds the jars: a preview reads local files only.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import urllib.request
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".cache" / "msk-connect"
MAVEN_LOCAL = Path.home() / ".m2" / "repository"
MAVEN_CENTRAL = "https://repo1.maven.org/maven2"
FETCH_TIMEOUT_S = 120
# Zip entries carry this date, so the same jars always give the same bytes.
ZIP_DATE = (2024, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class Jar:
    """One Maven artifact and the SHA-256 of its jar."""

    group: str
    artifact: str
    version: str
    sha256: str
    classifier: str = ""

    @property
    def file_name(self) -> str:
        tail = f"-{self.classifier}" if self.classifier else ""
        return f"{self.artifact}-{self.version}{tail}.jar"

    @property
    def repo_path(self) -> str:
        """Where the jar sits in a Maven repository."""
        return f"{self.group.replace('.', '/')}/{self.artifact}/{self.version}/{self.file_name}"

    @property
    def url(self) -> str:
        return f"{MAVEN_CENTRAL}/{self.repo_path}"


# MirrorMaker 2's connectors from the Kafka release MSK Connect runs (3.7.x),
# and MSK's IAM login module (all dependencies shaded in) for MirrorMaker's
# own clients of the target cluster.
MM2_JARS: tuple[Jar, ...] = (
    Jar(
        "org.apache.kafka",
        "connect-mirror",
        "3.7.2",
        "6ac25448b6a28ad7d6fc1db606efbec930f26852db924d71ebc58a27531aa91d",
    ),
    Jar(
        "org.apache.kafka",
        "connect-mirror-client",
        "3.7.2",
        "6aceff71300163a163e94828f10dd41c5c31ac3ed8df72f52bf535c2c6de45bd",
    ),
    Jar(
        "software.amazon.msk",
        "aws-msk-iam-auth",
        "2.2.0",
        "735dd058b81d088e767770d6cc4e7f1a1beea815ced18b66a23b35fd87651e77",
        classifier="all",
    ),
)

Fetch = Callable[[str], bytes]


class PluginError(RuntimeError):
    """A pinned jar could not be had with its pinned checksum."""


def _download(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=FETCH_TIMEOUT_S) as response:
        data: bytes = response.read()
        return data


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _write_atomically(path: Path, data: bytes) -> None:
    partial = path.with_name(f"{path.name}.partial-{os.getpid()}")
    partial.write_bytes(data)
    partial.replace(path)


def cached_jar(jar: Jar, cache: Path, maven_local: Path = MAVEN_LOCAL, fetch: Fetch = _download) -> Path:
    """The jar in `cache`, checked against its pin; fetched only if not there."""
    cache.mkdir(parents=True, exist_ok=True)
    path = cache / jar.file_name
    if path.exists() and _sha256(path.read_bytes()) == jar.sha256:
        return path
    local = maven_local / jar.repo_path
    if local.exists() and _sha256(local.read_bytes()) == jar.sha256:
        shutil.copyfile(local, path)
        return path
    try:
        data = fetch(jar.url)
    except OSError as e:
        raise PluginError(
            f"could not fetch {jar.file_name} from {jar.url}: {e}; put it in {cache} and run again"
        ) from e
    got = _sha256(data)
    if got != jar.sha256:
        raise PluginError(
            f"{jar.file_name} from {jar.url} has SHA-256 {got}, not the pinned {jar.sha256}: "
            "not used; check the mirror, or update the pin in infra/plugin_jars.py after verifying the release"
        )
    _write_atomically(path, data)
    return path


def manifest_digest(jars: Sequence[Jar]) -> str:
    """One hash of the pins: names the zip, so new pins make a new zip."""
    return _sha256("".join(f"{j.file_name}={j.sha256}\n" for j in jars).encode())[:16]


def plugin_zip(
    jars: Sequence[Jar] = MM2_JARS, cache: Path = CACHE, maven_local: Path = MAVEN_LOCAL, fetch: Fetch = _download
) -> Path:
    """The plugin zip (jars under `mm2/`), built once per set of pins."""
    paths = [cached_jar(j, cache, maven_local, fetch) for j in jars]
    target = cache / f"mirrormaker2-{manifest_digest(jars)}.zip"
    if target.exists():
        return target
    partial = target.with_name(f"{target.name}.partial-{os.getpid()}")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for path in sorted(paths, key=lambda q: q.name):
            info = zipfile.ZipInfo(f"mm2/{path.name}", date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, path.read_bytes())
    partial.replace(target)
    return target
