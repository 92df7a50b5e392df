"""The one walk over the plan: dispatch by registry, refusal before registration."""

import dataclasses

import pulumi
import pytest

from infra.components import realize
from infra.components.architecture import COMPONENTS, component_for
from infra.components.base import RealizationError, Site
from infra.components.registry import REALIZERS
from infra.kinds import LinkKind, MirrorMechanism
from tests.support.stacks import AWS_HUB, make_plan


def mixed(architecture):
    return make_plan(architecture, AWS_HUB)


def without_gcp(r):
    """The registries with every GCP entry (and the cross-cloud link and flows) taken out."""
    drop = {
        "gcp",
        LinkKind.HA_VPN,
        LinkKind.SHARED_VPC,
        MirrorMechanism.MM2_GCP_CONNECT,
        MirrorMechanism.MM2_MSK_CONNECT,
    }
    return dataclasses.replace(
        r, **{f.name: {k: v for k, v in getattr(r, f.name).items() if k not in drop} for f in dataclasses.fields(r)}
    )


@pytest.mark.parametrize("architecture", list(COMPONENTS))
def test_a_plan_with_unregistered_items_is_refused_whole_before_any_registration(run, architecture):
    plan = mixed(architecture)
    caught = {}

    def program():
        try:
            component_for(plan)("mck", plan, realizers=without_gcp(REALIZERS))
        except RealizationError as e:
            caught["error"] = e

    reg, _, _ = run(program)
    assert reg.all == []
    message = str(caught["error"])
    assert "region gcp/europe-west1: no provider realization for 'gcp'" in message
    assert "link aws/us-east-1<->gcp/asia-southeast1: no link realization for 'ha-vpn'" in message
    if architecture == "regional-clusters":
        assert (
            "mirror flow aws/us-east-1->gcp/europe-west1: no mirror realization for 'mm2-managed-kafka-connect'"
            in message
        )
        assert "cluster gcp/europe-west1: no cluster realization for 'gcp'" in message


def test_a_replication_factor_above_the_broker_count_is_refused():
    big = {"big": {"replicationFactor": 4, "minInsyncReplicas": 2}}
    found = realize.problems(make_plan("topic-per-region", events=big), REALIZERS)
    # One per destination region's topic on the hub, each naming its fix.
    assert len(found) == 3
    assert all("exceeds the cluster's 3 brokers" in f and "msk.brokersPerAz" in f for f in found)
    assert not realize.problems(make_plan("topic-per-region", events=big, msk={"brokersPerAz": 2}), REALIZERS)


class FakeCloud:
    """Test doubles for a second cloud, recording how the walk calls them."""

    def __init__(self):
        self.calls = []

    def provider(self, ctx, region):
        self.calls.append(("provider", region.key))

    def networks(self, ctx, regions):
        self.calls.append(("networks", tuple(r.key for r in regions)))
        shared = type("GlobalVpc", (), {})()
        return {r.key: dataclasses.replace(_Net(r), vpc=shared) for r in regions}

    def cluster(self, ctx, planned, net):
        self.calls.append(("cluster", planned.key, net.region.key))
        return _Cluster(planned.key)

    def topics(self, ctx, planned, cluster, topics):
        self.calls.append(("topics", planned.key, cluster.key, tuple(sorted(topics))))
        return _Topics({})

    def link(self, ctx, link, hub, spoke):
        self.calls.append(("link", link.key, hub.region.key, spoke.region.key))

    def mirror(self, ctx, flow, source: Site, target: Site):
        self.calls.append(("mirror", flow.key, source.plan.key, target.plan.key, type(source.cluster).__name__))

    def access(self, ctx, sites):
        self.calls.append(("access", tuple(sorted(k for k, s in sites.items() if s.plan.region.cloud == "gcp"))))


@dataclasses.dataclass
class _Net:
    region: object
    vpc: object = None


@dataclasses.dataclass
class _Cluster:
    key: str

    def bootstrap(self, client_cloud):
        return pulumi.Output.from_input(f"{self.key}:9092")


@dataclasses.dataclass
class _Topics:
    topics: dict


def test_a_second_cloud_plugs_in_through_the_registries_alone(run):
    fake = FakeCloud()
    realizers = dataclasses.replace(
        REALIZERS,
        providers={**REALIZERS.providers, "gcp": fake.provider},
        networks={**REALIZERS.networks, "gcp": fake.networks},
        clusters={**REALIZERS.clusters, "gcp": fake.cluster},
        topics={**REALIZERS.topics, "gcp": fake.topics},
        links={**REALIZERS.links, LinkKind.HA_VPN: fake.link},
        mirrors={**REALIZERS.mirrors, MirrorMechanism.MM2_GCP_CONNECT: fake.mirror},
        access={**REALIZERS.access, "gcp": fake.access},
    )
    plan = mixed("regional-clusters")

    def program():
        arch = component_for(plan)("mck", plan, realizers=realizers)
        return arch.regions

    reg, _, regions = run(program)
    gcp = ("gcp/asia-southeast1", "gcp/europe-west1")
    assert ("networks", gcp) in fake.calls and sum(c[0] == "networks" for c in fake.calls) == 1
    assert fake.calls.count(("access", gcp)) == 1
    for key in gcp:
        assert ("cluster", key, key) in fake.calls
        assert ("link", f"aws/us-east-1<->{key}", "aws/us-east-1", key) in fake.calls
        assert ("mirror", f"aws/us-east-1->{key}", "aws/us-east-1", key, "MskCluster") in fake.calls
    # AWS items were realized by the AWS entries: the hub now serves SCRAM to both GCP regions.
    assert len(reg.of_type("aws:msk/cluster:Cluster")) == 2
    assert len(reg.of_type("aws:msk/replicator:Replicator")) == 1
    # One login per GCP region's services and one per mirror flow into GCP.
    users = plan.logins("aws/us-east-1")
    assert users == tuple(
        sorted((*(k.replace("/", "-") for k in gcp), *(f"mirror-aws-us-east-1-to-{k.replace('/', '-')}" for k in gcp)))
    )
    secrets = sorted(s.inputs["name"] for s in reg.of_type("aws:secretsmanager/secret:Secret"))
    assert secrets == [f"AmazonMSK_mck-test-aws-us-east-1_{u}" for u in users]
    # Clients in GCP get the hub's SCRAM address, clients in AWS its IAM address.
    assert regions["gcp/europe-west1"]["bootstrap"]["aws/us-east-1"].endswith(":9096")
    assert regions["aws/us-west-2"]["bootstrap"]["aws/us-east-1"].endswith(":9098")
    assert regions["gcp/europe-west1"]["bootstrap"]["gcp/europe-west1"] == "gcp/europe-west1:9092"
