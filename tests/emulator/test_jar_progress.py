"""The first jar fetch says how far it got while Maven works, bounded in time, one line per interval."""

from __future__ import annotations

import sys

import pytest

from emulator import jars

# Maven 3 in batch mode (-B), one line per file (maven-embedder AbstractMavenTransferListener).
MAVEN_LINES = """\
[INFO] Scanning for projects...
Downloading from central: https://repo.maven.apache.org/maven2/org/apache/kafka/kafka-clients/4.1.1/kafka-clients-4.1.1.pom
Downloaded from central: https://repo.maven.apache.org/maven2/org/apache/kafka/kafka-clients/4.1.1/kafka-clients-4.1.1.pom (1.9 kB at 21 kB/s)
Downloaded from central: https://repo.maven.apache.org/maven2/org/apache/kafka/kafka-clients/4.1.1/kafka-clients-4.1.1.jar (12 MB at 4.1 MB/s)
Downloaded from central: https://repo.maven.apache.org/maven2/org/slf4j/slf4j-api/1.7.36/slf4j-api-1.7.36.jar (41 kB at 390 kB/s)
Downloaded from central: https://repo.maven.apache.org/maven2/a/b/1/b-1.sha1 (40 B at 1 kB/s)
"""


def test_downloaded_counts_the_files_and_megabytes_maven_reports():
    files, mb = jars.downloaded(MAVEN_LINES)
    assert files == 4
    assert mb == pytest.approx(0.0019 + 12 + 0.041 + 0.00004)


def test_a_running_fetch_reports_progress_every_interval_and_a_total(tmp_path, monkeypatch):
    """A real child process that prints like Maven for ~1.5 s: progress lines come while it runs."""
    monkeypatch.setattr(jars, "PROGRESS_EVERY_S", 0.4)
    script = (
        "import sys, time\n"
        f"lines = {MAVEN_LINES.splitlines()!r}\n"
        "for line in lines:\n"
        "    print(line, flush=True); time.sleep(0.3)\n"
    )
    logged: list[str] = []
    code, output = jars._run_with_progress([sys.executable, "-c", script], tmp_path / "fetch.log", logged.append)
    assert code == 0 and "kafka-clients-4.1.1.jar (12 MB" in output
    progress = [line for line in logged if line.startswith("  ... mvn working, ")]
    assert 2 <= len(progress) <= 6, logged
    assert logged[-1].startswith("  4 files (12.0 MB) downloaded in ")
    assert not (tmp_path / "fetch.log").exists()


def test_a_fetch_that_outlives_its_bound_is_killed(tmp_path, monkeypatch):
    monkeypatch.setattr(jars, "FETCH_TIMEOUT_S", 1)
    code, _ = jars._run_with_progress([sys.executable, "-c", "import time; time.sleep(60)"], tmp_path / "f.log", print)
    assert code is None
