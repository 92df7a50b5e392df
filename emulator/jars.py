"""The Apache Kafka jars, fetched once from Maven Central with emulator/pom.xml.

They land in `.cache/kafka-<version>/` (git-ignored). A manifest written at
the end of a fetch marks it complete: the pom's hash (editing the pom fetches
again) and each jar's size and SHA-256. Every `ensure` checks the jars
against it, and fetches again if one is missing, extra, truncated or altered.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

from emulator.errors import EmulatorError

ROOT = Path(__file__).resolve().parent.parent
POM = Path(__file__).with_name("pom.xml")
CACHE = ROOT / ".cache"
STAMP = ".complete"
FETCH_TIMEOUT_S = 600
# How often a fetch in progress says so: often enough to show it works, rare enough not to flood.
PROGRESS_EVERY_S = 15
# What Maven prints, in batch mode, for each file it has downloaded (maven-embedder's
# AbstractMavenTransferListener): "Downloaded from central: <url> (1.2 MB at 3.4 MB/s)".
DOWNLOADED = re.compile(r"^Downloaded from \S+: \S+ \(([\d.]+) (B|kB|MB|GB)", re.MULTILINE)


def kafka_version(pom: Path = POM) -> str:
    match = re.search(r"<kafka\.version>([^<]+)</kafka\.version>", pom.read_text())
    if not match:
        raise EmulatorError(f"{pom} has no <kafka.version> property")
    return match.group(1).strip()


def jar_dir(pom: Path = POM) -> Path:
    return CACHE / f"kafka-{kafka_version(pom)}"


def _pom_hash(pom: Path) -> str:
    return hashlib.sha256(pom.read_bytes()).hexdigest()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _manifest(directory: Path, pom: Path) -> dict[str, object]:
    jars = {p.name: {"size": p.stat().st_size, "sha256": _sha256(p)} for p in sorted(directory.glob("*.jar"))}
    return {"pom": _pom_hash(pom), "jars": jars}


def damage(pom: Path = POM) -> str | None:
    """What is wrong with the jar cache (None if it matches its manifest): missing, or which jar differs how."""
    directory = jar_dir(pom)
    stamp = directory / STAMP
    try:
        doc = json.loads(stamp.read_text())
        want = dict(doc["jars"])
        pom_hash = doc["pom"]
    except FileNotFoundError:
        return "not fetched yet"
    except (OSError, ValueError, KeyError, TypeError):
        return f"its manifest {stamp} is unreadable or from before checksums"
    if pom_hash != _pom_hash(pom):
        return f"{pom.name} changed since the fetch"
    have = {p.name: p for p in directory.glob("*.jar")}
    missing = sorted(set(want) - set(have))
    if missing:
        return f"{missing[0]} is missing" + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else "")
    extra = sorted(set(have) - set(want))
    if extra:
        return f"{extra[0]} was not fetched with the others"
    for name, path in sorted(have.items()):
        try:
            size = path.stat().st_size
            if size != want[name]["size"]:
                return f"{name} has {size} bytes instead of {want[name]['size']}"
            if _sha256(path) != want[name]["sha256"]:
                return f"{name} does not match its SHA-256 checksum"
        except OSError as e:
            return f"{name} cannot be read: {e.strerror}"
    return None


def ready(pom: Path = POM) -> bool:
    return damage(pom) is None


def _unreadable_jars(directory: Path) -> list[str]:
    """Jars whose zip structure or contents (CRC of every entry) are broken."""
    broken = []
    for path in sorted(directory.glob("*.jar")):
        try:
            with zipfile.ZipFile(path) as z:
                if z.testzip() is not None:
                    broken.append(path.name)
        except (OSError, zipfile.BadZipFile):
            broken.append(path.name)
    return broken


def downloaded(output: str) -> tuple[int, float]:
    """The files Maven's batch-mode output says it downloaded, and their megabytes."""
    scale = {"B": 1e-6, "kB": 1e-3, "MB": 1.0, "GB": 1e3}
    found = DOWNLOADED.findall(output)
    return len(found), sum(float(size) * scale[unit] for size, unit in found)


def _run_with_progress(cmd: list[str], log_file: Path, log: Callable[[str], None]) -> tuple[int | None, str]:
    """Runs `cmd` into `log_file`, saying every PROGRESS_EVERY_S how far it got; (exit code or None on timeout, output).

    The first fetch downloads Kafka's dependency tree one file at a time and
    can take minutes: each line names the files and megabytes so far and the
    elapsed time, so a slow network looks slow, not hung (files already in
    ~/.m2 are copied, not downloaded: a quiet run may count none).
    """
    started = time.monotonic()
    try:
        with log_file.open("w") as out:
            proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, text=True)
            last = started
            while proc.poll() is None:
                now = time.monotonic()
                if now - started > FETCH_TIMEOUT_S:
                    proc.kill()
                    proc.wait()
                    return None, log_file.read_text(errors="replace")
                if now - last >= PROGRESS_EVERY_S:
                    last = now
                    files, mb = downloaded(log_file.read_text(errors="replace"))
                    log(f"  ... mvn working, {now - started:.0f} s: {files} files ({mb:.1f} MB) downloaded so far")
                time.sleep(0.5)
        output = log_file.read_text(errors="replace")
        files, mb = downloaded(output)
        log(f"  {files} files ({mb:.1f} MB) downloaded in {time.monotonic() - started:.0f} s")
        return proc.returncode, output
    finally:
        log_file.unlink(missing_ok=True)


def ensure(log: Callable[[str], None] = print, pom: Path = POM) -> Path:
    """The directory of the jars, fetching them first if needed."""
    target = jar_dir(pom)
    problem = damage(pom)
    if problem is None:
        return target
    if (target / STAMP).exists():
        log(f"the Kafka jars in {target} are damaged ({problem}); fetching them again ...")
    mvn = shutil.which("mvn")
    if mvn is None:
        raise EmulatorError(
            "Maven (mvn) is needed once, to fetch the Apache Kafka jars from Maven Central: "
            "install it (e.g. apt-get install maven) and run again"
        )
    log(f"fetching Apache Kafka {kafka_version(pom)} jars from Maven Central into {target} (first run only) ...")
    # A private directory, renamed into place at the end: two runs fetching at
    # once never see each other's half-copied jars.
    partial = target.with_name(f"{target.name}.partial-{os.getpid()}")
    shutil.rmtree(partial, ignore_errors=True)
    partial.parent.mkdir(parents=True, exist_ok=True)  # a fresh clone has no .cache yet
    cmd = [
        mvn,
        "-B",
        "-f",
        str(pom),
        "dependency:copy-dependencies",
        f"-DoutputDirectory={partial}",
        "-DincludeScope=runtime",
    ]
    code, output = _run_with_progress(cmd, partial.with_name(f"{partial.name}.log"), log)
    if code is None:
        shutil.rmtree(partial, ignore_errors=True)
        raise EmulatorError(
            f"fetching the Kafka jars took over {FETCH_TIMEOUT_S} s; check access to Maven Central"
        ) from None
    if code != 0:
        shutil.rmtree(partial, ignore_errors=True)
        tail = "\n".join(output.strip().splitlines()[-15:])
        raise EmulatorError(f"mvn could not fetch the Kafka jars (exit {code}):\n{tail}")
    broken = _unreadable_jars(partial)
    if broken:
        shutil.rmtree(partial, ignore_errors=True)
        raise EmulatorError(
            f"the local Maven repository (~/.m2/repository) holds damaged jars: {', '.join(broken)}; "
            "delete them there so that mvn downloads them again, and run again"
        )
    (partial / STAMP).write_text(json.dumps(_manifest(partial, pom), indent=1) + "\n")
    shutil.rmtree(target, ignore_errors=True)
    try:
        partial.rename(target)
    except OSError:
        # Another run put a complete copy in place first.
        shutil.rmtree(partial, ignore_errors=True)
    problem = damage(pom)
    if problem is not None:
        raise EmulatorError(
            f"the Kafka jars in {target} are not as fetched ({problem}); delete that directory and run again"
        )
    return target
