"""How a client in one region reaches a realized cluster of either cloud.

MirrorMaker 2 is such a client twice over (of its source and its target), so
a mirror flow builds its two `infra.mirrormaker.Endpoint`s here. Passwords
and keys stay Pulumi secrets; the endpoint's client properties place them.

| cluster | client in AWS | client in GCP |
|---|---|---|
| MSK | IAM (port 9098) | SASL/SCRAM-SHA-512 (port 9096), one user per GCP region's services and per mirror flow |
| Managed Kafka | SASL/PLAIN: service account + key (port 9092) | OAUTHBEARER as its own service account (port 9092) |
"""

from __future__ import annotations

from typing import Any

import pulumi

from infra import geo, mirrormaker
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
    jaas: pulumi.Output[str] = pulumi.Output.secret(
        pulumi.Output.format(
            'org.apache.kafka.common.security.scram.ScramLoginModule required username="{0}" password="{1}";',
            username,
            password,
        )
    )
    return {"security.protocol": "SASL_SSL", "sasl.mechanism": "SCRAM-SHA-512", "sasl.jaas.config": jaas}


def endpoint(plan: Plan, site: Site, principal: str) -> mirrormaker.Endpoint:
    """The cluster of `site` as principal `principal` reaches it, with its own login where it needs one."""
    who = plan.principals[principal]
    grant = who.grants[site.plan.key]
    client_cloud = plan.config.regions[who.home].cloud
    bootstrap = site.cluster.bootstrap(client_cloud)
    what = f"cluster {site.plan.key}"
    if site.plan.region.cloud == geo.AWS:
        if grant.login is None:
            client: dict[str, Any] = dict(MSK_IAM)
        else:
            client = msk_scram(grant.login, expect(site.cluster, MskCluster, what).scram_passwords[grant.login])
    else:
        client = dict(expect(site.cluster, ManagedKafkaCluster, what).client_properties(grant.login))
    return mirrormaker.Endpoint(mirrormaker.alias(site.plan.key), bootstrap, client)
