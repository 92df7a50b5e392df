"""References to logins in Kafka Connect configurations (infra/secretrefs.py), read as Kafka reads them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infra import secretrefs

# Apache Kafka's ConfigTransformer.DEFAULT_PATTERN (clients, org.apache.kafka.common.config): ${provider:[path:]key}.
ROOT = Path(secretrefs.__file__).resolve().parent.parent
KAFKA_PATTERN = re.compile(r"\$\{([^}]*?):(([^}]*?):)?([^}]*?)\}")


def parsed(text: str) -> tuple[str, str, str]:
    m = KAFKA_PATTERN.fullmatch(text)
    assert m is not None, text
    return m.group(1), m.group(3) or "", m.group(4)


@given(
    name=st.from_regex(r"[A-Za-z0-9/_+=.@-]{1,60}", fullmatch=True),
    version=st.uuids().map(str),
)
def test_kafka_reads_the_provider_the_pinned_version_and_the_field(name: str, version: str):
    assert parsed(secretrefs.reference(name, "password", version)) == (
        "secretsmanager",
        f"{name}#{version}",
        "password",
    )
    assert parsed(secretrefs.reference(name, "username")) == ("secretsmanager", name, "username")


def test_an_arn_cannot_be_a_path_so_references_name_the_secret():
    """Kafka's path stops at the first ':', so an ARN would reach the provider as 'arn'."""
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:mm2-login-AbCdEf"
    assert parsed(f"${{secretsmanager:{arn}:password}}")[1] == "arn"
    with pytest.raises(ValueError, match="letters, digits and /_"):
        secretrefs.reference(arn, "password")


def test_secret_names_are_checked_against_secrets_managers_rules():
    assert secretrefs.secret_name("mck-prod-gcp-europe-west1-to-aws-us-east-1", "source") == (
        "mck-prod-gcp-europe-west1-to-aws-us-east-1/source-login"
    )
    with pytest.raises(ValueError, match="1-512"):
        secretrefs.secret_name("x" * 510, "source")
    with pytest.raises(ValueError, match=r"field 'pass word'"):
        secretrefs.reference("a", "pass word")


def test_the_worker_declares_the_provider_class_the_plugin_builds():
    props = secretrefs.worker_properties("eu-west-1")
    assert props == {
        "config.providers": "secretsmanager",
        "config.providers.secretsmanager.class": "io.github.multicloudkafka.secrets.SecretsManagerConfigProvider",
        "config.providers.secretsmanager.param.region": "eu-west-1",
    }
    source = "plugins/secretsmanager-config-provider/src/main/java/io/github/multicloudkafka/secrets"
    assert (ROOT / source / "SecretsManagerConfigProvider.java").exists()
    assert secretrefs.worker_properties("eu-west-1", "http://127.0.0.1:1")[
        "config.providers.secretsmanager.param.endpoint"
    ]


def test_jaas_lines_for_scram_and_plain_and_a_clear_error_otherwise():
    line = secretrefs.jaas_template("SCRAM-SHA-512").format("mirror", "${secretsmanager:s:password}")
    assert line == (
        "org.apache.kafka.common.security.scram.ScramLoginModule required "
        'username="mirror" password="${secretsmanager:s:password}";'
    )
    assert secretrefs.jaas_template("PLAIN").startswith("org.apache.kafka.common.security.plain.PlainLoginModule ")
    with pytest.raises(ValueError, match="no login module for SASL mechanism 'GSSAPI'"):
        secretrefs.jaas_template("GSSAPI")
