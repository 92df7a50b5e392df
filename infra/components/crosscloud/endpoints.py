"""How a client in one region reaches a realized cluster of either cloud.

MirrorMaker 2 is such a client twice over (of its source and its target), so
a mirror flow builds its two `infra.mirrormaker.Endpoint`s here. A side
reached with a username and password (a `Login`) gets client properties with
the password in place, a Pulumi secret, or with a config provider's
reference standing for it (`Side.endpoint`, infra/secretrefs.py): MSK
Connect's connectors take the reference.

| cluster | client in AWS | client in GCP |
|---|---|---|
| MSK | IAM (port 9098) | SASL/SCRAM-SHA-512 (port 9096), one user per GCP region's services and per mirror flow |
| Managed Kafka | SASL/PLAIN: service account + key (port 9092) | OAUTHBEARER as its own service account (port 9092) |
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi

from infra import geo, mirrormaker, secretrefs
from infra.components.aws.msk import MskCluster
from infra.components.base import Site, expect
from infra.components.gcp.managed_kafka import ManagedKafkaCluster
from infra.plan import Plan

MSK_IAM = {
    "security.protocol": "SASL_SSL",
    "sasl.mechanism": "AWS_MSK_IAM",
    "sasl.jaas.config": "software.amazon.msk.auth.iam.IAMLoginModule required;",
    "sasl.client.callback.handler.class": "software.amazon.msk.auth.iam.IAMClientCallbackHandler",
}


def msk_scram(username: str, password: pulumi.Input[str]) -> dict[str, Any]:
    return Login("SCRAM-SHA-512", username, pulumi.Output.secret(password)).client()


@dataclass(frozen=True)
class Login:
    """A username and password login: SCRAM on MSK, SASL/PLAIN with a service account's key on Managed Kafka."""

    mechanism: str
    username: pulumi.Input[str]
    password: pulumi.Output[str]

    def client(self, password: pulumi.Input[str] | None = None) -> dict[str, Any]:
        """Client properties with the password itself (a Pulumi secret), or with `password` standing for it."""
        jaas = pulumi.Output.format(
            secretrefs.jaas_template(self.mechanism), self.username, self.password if password is None else password
        )
        return {
            "security.protocol": "SASL_SSL",
            "sasl.mechanism": self.mechanism,
            "sasl.jaas.config": pulumi.Output.secret(jaas) if password is None else jaas,
        }


@dataclass(frozen=True)
class Side:
    """A cluster as one principal reaches it: address, and either its own identity's client settings or a login."""

    alias: str
    bootstrap: pulumi.Input[str]
    client: Mapping[str, Any] = field(default_factory=dict)
    login: Login | None = None

    def endpoint(self, password: pulumi.Input[str] | None = None) -> mirrormaker.Endpoint:
        """The endpoint, its login's password in place or, given, `password` (a reference) standing for it."""
        client = dict(self.client) if self.login is None else self.login.client(password)
        return mirrormaker.Endpoint(self.alias, self.bootstrap, client)


def side(plan: Plan, site: Site, principal: str) -> Side:
    """The cluster of `site` as principal `principal` reaches it, with its own login where it needs one."""
    who = plan.principals[principal]
    grant = who.grants[site.plan.key]
    client_cloud = plan.config.regions[who.home].cloud
    alias = mirrormaker.alias(site.plan.key)
    bootstrap = site.cluster.bootstrap(client_cloud)
    what = f"cluster {site.plan.key}"
    if site.plan.region.cloud == geo.AWS:
        if grant.login is None:
            return Side(alias, bootstrap, MSK_IAM)
        password = expect(site.cluster, MskCluster, what).scram_passwords[grant.login]
        return Side(alias, bootstrap, login=Login("SCRAM-SHA-512", grant.login, password))
    cluster = expect(site.cluster, ManagedKafkaCluster, what)
    if grant.login is None:
        return Side(alias, bootstrap, cluster.client_properties(None))
    key = cluster.logins[grant.login]
    return Side(alias, bootstrap, login=Login("PLAIN", key.username, key.password))


def endpoint(plan: Plan, site: Site, principal: str) -> mirrormaker.Endpoint:
    """The cluster of `site` as principal `principal` reaches it, passwords and keys in place as Pulumi secrets."""
    return side(plan, site, principal).endpoint()
