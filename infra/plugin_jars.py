"""The MirrorMaker 2 plugin of MSK Connect: jars pinned by SHA-256, fetched or built once.

`plugin_zip()` returns a zip of the pinned jars, built in a local cache
(`.cache/msk-connect/`, git-ignored). A jar is taken from the cache, else
from the local Maven repository (`~/.m2`, where the emulator's Kafka jars
also live), else downloaded from Maven Central; whatever its origin, its
SHA-256 must equal the pinned one or nothing is used.

The plugin also carries this project's own Secrets Manager config provider
(plugins/secretsmanager-config-provider), built here with Maven
(`./scripts/build-config-provider`) and pinned the same way: its build is
reproducible (fixed entry dates, pinned Maven plugins), so the same sources
and the same JDK give the same bytes, and a jar that differs from its pin is
refused with what to do. The zip is written byte for byte the same every
time (fixed entry dates and order), so its hash, and with it the uploaded
plugin, changes only when the pins do: a new Maven release, or new provider
sources with their new pin. Nothing is downloaded or built once the cache
holds the jars: a preview reads local files only.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
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
# A first build downloads Maven's plugins and the provider's compile-time jars.
BUILD_TIMEOUT_S = 600
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

# Secrets Manager's client for the config provider, of the AWS SDK release
# aws-msk-iam-auth 2.2.0's all jar carries (2.26.8), which supplies the SDK
# core: one SDK of one version in the plugin.
PROVIDER_JARS: tuple[Jar, ...] = (
    Jar(
        "software.amazon.awssdk",
        "secretsmanager",
        "2.26.8",
        "ef92dec5b3e979838c7531d82d28f123ff61010b7b4628f00528826aa752e5ba",
    ),
)


@dataclass(frozen=True)
class BuiltJar:
    """A jar this project builds from a Maven module, and the SHA-256 of its reproducible build."""

    module: str
    artifact: str
    version: str
    sha256: str
    # The JDK release whose javac made the pinned bytes (the jar's manifest names it too).
    jdk: str

    @property
    def file_name(self) -> str:
        return f"{self.artifact}-{self.version}.jar"


# The Kafka ConfigProvider that resolves ${secretsmanager:<secret>:<field>}
# in the connectors' configurations (docs/security.md).
CONFIG_PROVIDER = BuiltJar(
    "plugins/secretsmanager-config-provider",
    "secretsmanager-config-provider",
    "1.0.0",
    "6b3d07bf7cbd407d667bfc5765798f5ab140ce69f19a4e2d413ca646a1a34848",
    jdk="17",
)
PLUGIN_JARS: tuple[Jar, ...] = MM2_JARS + PROVIDER_JARS
BUILT_JARS: tuple[BuiltJar, ...] = (CONFIG_PROVIDER,)

Fetch = Callable[[str], bytes]
# Builds a module (a copy of it, in the given directory); returns the jar it made.
Build = Callable[[BuiltJar, Path], Path]


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


def maven_build(jar: BuiltJar, workdir: Path) -> Path:
    """`mvn package` of a copy of `jar.module` in `workdir` (the source tree stays clean); the jar it made."""
    mvn = shutil.which("mvn")
    if mvn is None:
        raise PluginError(
            f"Maven (mvn) and a JDK {jar.jdk} are needed once, to build {jar.file_name} from {jar.module}: "
            "install them (e.g. apt-get install maven openjdk-17-jdk-headless) and run again"
        )
    module = workdir / "module"
    shutil.copytree(ROOT / jar.module, module, ignore=shutil.ignore_patterns("target"))
    cmd = [mvn, "-B", "-q", "-f", str(module / "pom.xml"), "package", "-Dmaven.test.skip=true"]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        raise PluginError(
            f"building {jar.module} took over {BUILD_TIMEOUT_S} s; check access to Maven Central"
        ) from None
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
        raise PluginError(f"mvn could not build {jar.module} (exit {done.returncode}):\n{tail}")
    return module / "target" / jar.file_name


def sources_digest(module: Path) -> str:
    """One hash of a module's files (its build output aside): a cached build of other sources is not used."""
    files = sorted(f for f in module.rglob("*") if f.is_file() and "target" not in f.relative_to(module).parts)
    h = hashlib.sha256()
    for f in files:
        h.update(f"{f.relative_to(module).as_posix()}\0{len(f.read_bytes())}\0".encode())
        h.update(f.read_bytes())
    return h.hexdigest()


def built_jar(jar: BuiltJar, cache: Path, build: Build = maven_build, root: Path = ROOT) -> Path:
    """The built jar in `cache`, checked against its pin; built again only if missing or its sources changed
    (so that sources edited without a new pin are refused, not hidden by the cache)."""
    cache.mkdir(parents=True, exist_ok=True)
    path = cache / jar.file_name
    stamp = cache / f"{jar.file_name}.sources"
    digest = sources_digest(root / jar.module)
    fresh = stamp.exists() and stamp.read_text().strip() == digest
    if fresh and path.exists() and _sha256(path.read_bytes()) == jar.sha256:
        return path
    with tempfile.TemporaryDirectory(prefix="build-", dir=cache) as workdir:
        data = build(jar, Path(workdir)).read_bytes()
    got = _sha256(data)
    if got != jar.sha256:
        raise PluginError(
            f"{jar.file_name} built from {jar.module} has SHA-256 {got}, not the pinned {jar.sha256}: not used. "
            f"If you changed {jar.module}, put the new hash in infra/plugin_jars.py (CONFIG_PROVIDER); "
            f"otherwise build with JDK {jar.jdk}, whose javac made the pinned bytes"
        )
    _write_atomically(path, data)
    _write_atomically(stamp, f"{digest}\n".encode())
    return path


def manifest_digest(jars: Sequence[Jar], built: Sequence[BuiltJar] = ()) -> str:
    """One hash of the pins: names the zip, so new pins make a new zip."""
    pins = [(j.file_name, j.sha256) for j in jars] + [(b.file_name, b.sha256) for b in built]
    return _sha256("".join(f"{name}={sha}\n" for name, sha in pins).encode())[:16]


def plugin_zip(
    jars: Sequence[Jar] = PLUGIN_JARS,
    cache: Path = CACHE,
    maven_local: Path = MAVEN_LOCAL,
    fetch: Fetch = _download,
    built: Sequence[BuiltJar] = BUILT_JARS,
    build: Build = maven_build,
) -> Path:
    """The plugin zip (jars under `mm2/`), built once per set of pins."""
    paths = [cached_jar(j, cache, maven_local, fetch) for j in jars]
    paths += [built_jar(b, cache, build) for b in built]
    target = cache / f"mirrormaker2-{manifest_digest(jars, built)}.zip"
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


def main(argv: Sequence[str]) -> int:
    """`./scripts/build-config-provider [--check]`: builds (or, with --check, rebuilds from scratch) the
    config provider, checks it against its pin, and prints the plugin zip's path."""
    if list(argv) == ["--check"]:
        with tempfile.TemporaryDirectory(prefix="check-") as scratch:
            for jar in BUILT_JARS:
                built_jar(jar, Path(scratch))
                print(f"{jar.file_name}: a fresh build has the pinned SHA-256 {jar.sha256}")
        return 0
    if argv:
        print("usage: ./scripts/build-config-provider [--check]", file=sys.stderr)
        return 2
    print(plugin_zip())
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except PluginError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(1)
