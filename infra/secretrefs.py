"""Logins by reference in Kafka Connect configurations, through this project's Secrets Manager config provider.

A connector configuration that MirrorMaker 2 runs with on MSK Connect names
its login's password as `${secretsmanager:<secret name>#<version id>:password}`;
the worker resolves it when it starts the connector
(plugins/secretsmanager-config-provider), so anyone who can describe the
connector reads a reference, not the password. The same functions serve the
cloud (infra/components/aws/msk_connect.py) and the test that runs the
provider on real Kafka (tests/emulator/test_config_provider.py).

Kafka's variable syntax is `${provider:path:key}` with no ':' in the path
(ConfigTransformer's pattern), so the path is the secret's name, not its ARN;
'#' (which no secret name may contain) separates the version the reference
pins: a rotated login is a new version, hence a new reference, hence a
changed connector configuration that the next `pulumi up` applies.
"""

from __future__ import annotations

import re

PROVIDER = "secretsmanager"
PROVIDER_CLASS = "io.github.multicloudkafka.secrets.SecretsManagerConfigProvider"
USERNAME = "username"
PASSWORD = "password"
# Secrets Manager's secret names: 1-512 of letters, digits and /_+=.@- ("CreateSecret", API Reference).
NAME_MAX = 512
_NAME = re.compile(r"[A-Za-z0-9/_+=.@-]+")
# "Using a configuration provider to externalize secrets" (Amazon MSK Developer Guide): MSK Connect restarts a
# connector that uses a config provider frequently unless its configuration sets this. The references pin
# their version, so a reload would read the same values again.
NO_RELOAD = {"config.action.reload": "none"}
LOGIN_MODULES = {
    "SCRAM-SHA-512": "org.apache.kafka.common.security.scram.ScramLoginModule",
    "PLAIN": "org.apache.kafka.common.security.plain.PlainLoginModule",
}


def secret_name(owner: str, side: str) -> str:
    """<owner>/<side>-login: the secret of one side's login (source or target) of one mirror flow."""
    name = f"{owner}/{side}-login"
    if len(name) > NAME_MAX or not _NAME.fullmatch(name):
        raise ValueError(f"secret name {name!r}: Secrets Manager allows 1-{NAME_MAX} of letters, digits and /_+=.@-")
    return name


def reference(secret: str, field: str, version_id: str = "") -> str:
    """`${secretsmanager:<secret>[#<version id>]:<field>}`, which the config provider replaces with the field."""
    if not _NAME.fullmatch(secret):
        raise ValueError(f"secret name {secret!r}: a reference needs a name of letters, digits and /_+=.@-")
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", field) or (version_id and not re.fullmatch(r"[A-Za-z0-9-]+", version_id)):
        raise ValueError(
            f"reference to {secret!r}: field {field!r} or version {version_id!r} has characters Kafka's syntax forbids"
        )
    path = f"{secret}#{version_id}" if version_id else secret
    return f"${{{PROVIDER}:{path}:{field}}}"


def worker_properties(region: str, endpoint: str = "") -> dict[str, str]:
    """The worker settings that declare the provider: Secrets Manager of `region`, at `endpoint` if given."""
    prefix = f"config.providers.{PROVIDER}"
    out = {"config.providers": PROVIDER, f"{prefix}.class": PROVIDER_CLASS, f"{prefix}.param.region": region}
    if endpoint:
        out[f"{prefix}.param.endpoint"] = endpoint
    return out


def jaas_template(mechanism: str) -> str:
    """The JAAS line of a username/password login with `mechanism`, as a format string of ({0}=user, {1}=password)."""
    try:
        module = LOGIN_MODULES[mechanism]
    except KeyError:
        raise ValueError(f"no login module for SASL mechanism {mechanism!r}; known: {sorted(LOGIN_MODULES)}") from None
    return module + ' required username="{0}" password="{1}";'
