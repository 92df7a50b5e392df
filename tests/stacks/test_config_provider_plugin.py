"""The config provider in the MSK Connect plugin: built once, pinned like the downloaded jars."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import pytest

from infra import plugin_jars

FAKE = plugin_jars.BuiltJar("plugins/example", "example", "1.0", hashlib.sha256(b"built bytes").hexdigest(), jdk="17")


class Builds:
    """A build that writes given bytes, counting its runs."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.runs = 0

    def __call__(self, jar: plugin_jars.BuiltJar, workdir: Path) -> Path:
        self.runs += 1
        out = workdir / jar.file_name
        out.write_bytes(self.data)
        return out


def test_the_provider_is_built_once_checked_against_its_pin_and_zipped_with_the_jars(tmp_path: Path):
    build = Builds(b"built bytes")
    first = plugin_jars.plugin_zip([], tmp_path, tmp_path / "m2", built=[FAKE], build=build)
    data = first.read_bytes()
    first.unlink()
    again = plugin_jars.plugin_zip([], tmp_path, tmp_path / "m2", built=[FAKE], build=build)
    assert build.runs == 1
    assert again.read_bytes() == data
    with zipfile.ZipFile(again) as z:
        assert z.namelist() == ["mm2/example-1.0.jar"] and z.read("mm2/example-1.0.jar") == b"built bytes"
    assert not list(tmp_path.glob("build-*")), "the build's scratch copy is removed"


def test_edited_sources_are_built_again_and_refused_until_pinned(tmp_path: Path):
    """The cache never hides sources changed without a new pin: they are built, and the build is refused."""
    module = tmp_path / "src" / FAKE.module
    (module / "src").mkdir(parents=True)
    (module / "src" / "Provider.java").write_text("class Provider {}")
    (module / "target").mkdir()
    (module / "target" / "junk.class").write_text("build output is not a source")
    build = Builds(b"built bytes")
    cache = tmp_path / "cache"
    plugin_jars.built_jar(FAKE, cache, build, root=tmp_path / "src")
    (module / "target" / "junk.class").write_text("changed build output")
    plugin_jars.built_jar(FAKE, cache, build, root=tmp_path / "src")
    assert build.runs == 1
    (module / "src" / "Provider.java").write_text("class Provider { int changed; }")
    build.data = b"bytes of the changed sources"
    with pytest.raises(plugin_jars.PluginError, match="put the new hash"):
        plugin_jars.built_jar(FAKE, cache, build, root=tmp_path / "src")
    assert build.runs == 2


def test_a_build_that_differs_from_its_pin_is_refused_with_what_to_do(tmp_path: Path):
    with pytest.raises(plugin_jars.PluginError) as e:
        plugin_jars.built_jar(FAKE, tmp_path, Builds(b"other bytes"))
    assert f"not the pinned {FAKE.sha256}" in str(e.value)
    assert "put the new hash in infra/plugin_jars.py" in str(e.value) and "JDK 17" in str(e.value)
    assert not list(tmp_path.glob("*.jar"))


def test_a_new_provider_pin_names_a_new_zip():
    """The uploaded plugin's S3 key and hash change when, and only when, a pin does."""
    jars = plugin_jars.PLUGIN_JARS
    same = plugin_jars.manifest_digest(jars, [FAKE])
    assert plugin_jars.manifest_digest(jars, [FAKE]) == same
    rebuilt = plugin_jars.BuiltJar(FAKE.module, FAKE.artifact, FAKE.version, "0" * 64, FAKE.jdk)
    assert plugin_jars.manifest_digest(jars, [rebuilt]) != same


def test_the_plugin_carries_the_provider_and_secrets_managers_client_of_the_sdk_msk_iam_auth_bundles():
    """aws-msk-iam-auth 2.2.0's all jar carries the AWS SDK 2.26.8 core unrelocated: the Secrets Manager client
    must be of that release, or the plugin's class loader would mix two SDKs."""
    assert {j.file_name for j in plugin_jars.PROVIDER_JARS} == {"secretsmanager-2.26.8.jar"}
    pom = (plugin_jars.ROOT / plugin_jars.CONFIG_PROVIDER.module / "pom.xml").read_text()
    assert "<awssdk.version>2.26.8</awssdk.version>" in pom
    assert f"<version>{plugin_jars.CONFIG_PROVIDER.version}</version>" in pom
    assert "<project.build.outputTimestamp>" in pom, "a reproducible build"
    assert plugin_jars.PLUGIN_JARS == plugin_jars.MM2_JARS + plugin_jars.PROVIDER_JARS
