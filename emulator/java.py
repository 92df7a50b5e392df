"""Finding the JDK that runs Kafka."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from emulator.errors import EmulatorError

MIN_JAVA = 17
INSTALL_HINT = (
    f"install a JDK {MIN_JAVA} or newer (e.g. apt-get install openjdk-{MIN_JAVA}-jre-headless) "
    "or point JAVA_HOME at one"
)


def find() -> str:
    """The java executable: $JAVA_HOME/bin/java, else java on PATH; version checked."""
    home = os.environ.get("JAVA_HOME")
    java = str(Path(home) / "bin" / "java") if home else shutil.which("java")
    if not java or not os.access(java, os.X_OK):
        where = f"JAVA_HOME={home} has no bin/java" if home else "no java on PATH"
        raise EmulatorError(f"Apache Kafka needs Java and {where}: {INSTALL_HINT}")
    try:
        out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise EmulatorError(f"{java} -version failed ({e}): {INSTALL_HINT}") from None
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out.stderr + out.stdout)
    if not match:
        raise EmulatorError(f"cannot tell the version of {java}: {INSTALL_HINT}")
    major = int(match.group(1))
    if major == 1:
        major = int(match.group(2) or 0)
    if major < MIN_JAVA:
        raise EmulatorError(f"{java} is Java {major}; Apache Kafka 4 needs {MIN_JAVA} or newer: {INSTALL_HINT}")
    return java
