"""The Apache Kafka jars, fetched once from Maven Central with emulator/pom.xml.

They land in `.cache/kafka-<version>/` (git-ignored); a stamp holding the
pom's hash marks a complete fetch, so editing the pom fetches again.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Callable

from emulator.errors import EmulatorError

ROOT = Path(__file__).resolve().parent.parent
POM = Path(__file__).with_name("pom.xml")
CACHE = ROOT / ".cache"
STAMP = ".complete"
FETCH_TIMEOUT_S = 600


def kafka_version(pom: Path = POM) -> str:
    match = re.search(r"<kafka\.version>([^<]+)</kafka\.version>", pom.read_text())
    if not match:
        raise EmulatorError(f"{pom} has no <kafka.version> property")
    return match.group(1).strip()


def jar_dir(pom: Path = POM) -> Path:
    return CACHE / f"kafka-{kafka_version(pom)}"


def _pom_hash(pom: Path) -> str:
    return hashlib.sha256(pom.read_bytes()).hexdigest()


def ready(pom: Path = POM) -> bool:
    stamp = jar_dir(pom) / STAMP
    return stamp.exists() and stamp.read_text().strip() == _pom_hash(pom)


def ensure(log: Callable[[str], None] = print, pom: Path = POM) -> Path:
    """The directory of the jars, fetching them first if needed."""
    target = jar_dir(pom)
    if ready(pom):
        return target
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
    cmd = [
        mvn, "-q", "-B", "-f", str(pom), "dependency:copy-dependencies",
        f"-DoutputDirectory={partial}", "-DincludeScope=runtime",
    ]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=FETCH_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        shutil.rmtree(partial, ignore_errors=True)
        raise EmulatorError(f"fetching the Kafka jars took over {FETCH_TIMEOUT_S} s; check access to Maven Central") from None
    if done.returncode != 0:
        shutil.rmtree(partial, ignore_errors=True)
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
        raise EmulatorError(f"mvn could not fetch the Kafka jars (exit {done.returncode}):\n{tail}")
    (partial / STAMP).write_text(_pom_hash(pom) + "\n")
    shutil.rmtree(target, ignore_errors=True)
    try:
        partial.rename(target)
    except OSError:
        # Another run put a complete copy in place first.
        shutil.rmtree(partial, ignore_errors=True)
    if not ready(pom):
        raise EmulatorError(f"the Kafka jars in {target} are incomplete; delete that directory and run again")
    return target
