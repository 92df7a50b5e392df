"""The pure addressing of HA VPN links, and the `vpn` config key."""

import pytest

from infra import geo, vpn
from infra.validation import ConfigError
from tests.support.stacks import AWS_HUB, GCP_HUB, make_plan

ALL_REGION_KEYS = [f"{c}/{r}" for c in geo.CLOUDS for r in sorted(geo.REGIONS[c])]


def test_every_known_region_gets_its_own_block_clear_of_aws_reserved_ranges():
    blocks = {key: vpn.inside_block(key) for key in ALL_REGION_KEYS}
    assert len(set(blocks.values())) == len(blocks), "two known regions share tunnel addresses"
    for block in blocks.values():
        assert block.subnet_of(vpn.LINK_LOCAL) and block.prefixlen == 28
        assert not any(block.overlaps(r) for r in vpn.AWS_RESERVED)


def test_four_tunnels_two_per_gcp_interface_and_per_aws_connection():
    plan = make_plan("topic-per-region", AWS_HUB)
    link = plan.links["aws/us-east-1<->gcp/europe-west1"]
    tunnels = link.tunnels
    assert tunnels == vpn.tunnels(link.spoke)
    assert len(tunnels) == 4
    assert [(t.gcp_interface, t.aws_connection, t.aws_tunnel) for t in tunnels] == [
        (0, 0, 1),
        (0, 0, 2),
        (1, 1, 1),
        (1, 1, 2),
    ]
    assert len({t.inside_cidr for t in tunnels}) == 4
    for t in tunnels:
        assert t.inside_cidr.prefixlen == 30 and t.inside_cidr.subnet_of(vpn.inside_block(link.spoke))


def test_adding_a_region_never_moves_another_links_tunnels():
    before = make_plan("topic-per-region", AWS_HUB)
    after = make_plan("topic-per-region", {**AWS_HUB, "gcp/us-central1": {"cidr": "10.50.0.0/16"}})
    for key, link in before.links.items():
        if link.kind == "ha-vpn":
            assert after.links[key].tunnels == link.tunnels


def test_link_ends_are_found_whichever_side_is_the_hub():
    plan = make_plan("header-routing", GCP_HUB, hub="gcp/europe-west1")
    ends = plan.ends(plan.links["gcp/europe-west1<->aws/us-east-1"])
    assert (ends.aws.key, ends.gcp.key) == ("aws/us-east-1", "gcp/europe-west1")
    with pytest.raises(ValueError):
        plan.ends(plan.links["gcp/europe-west1<->gcp/asia-southeast1"])


def test_only_cross_cloud_links_have_tunnels():
    plan = make_plan("header-routing", GCP_HUB, hub="gcp/europe-west1")
    tunnels = {key: len(link.tunnels) for key, link in plan.links.items()}
    assert tunnels["gcp/europe-west1<->aws/us-east-1"] == 4
    assert tunnels["gcp/europe-west1<->gcp/asia-southeast1"] == 0
    assert all(
        n == (4 if link.kind == "ha-vpn" else 0) for link, n in zip(plan.links.values(), tunnels.values(), strict=True)
    )


def test_plans_of_known_regions_have_no_tunnel_collisions():
    for regions, hub in ((AWS_HUB, "aws/us-east-1"), (GCP_HUB, "gcp/europe-west1")):
        assert vpn.problems(make_plan("header-routing", regions, hub=hub)) == []


def test_vpn_asns_default_and_are_validated():
    assert make_plan("header-routing", AWS_HUB).config.vpn.aws_asn == 64512
    assert make_plan("header-routing", AWS_HUB, vpn={"awsAsn": 4200000001, "gcpAsn": 65010}).config.vpn.gcp_asn == 65010
    with pytest.raises(ConfigError) as e:
        make_plan("header-routing", AWS_HUB, vpn={"awsAsn": 65001, "gcpAsn": 65001})
    assert "multicloud-kafka:vpn.gcpAsn = 65001: equals awsAsn" in str(e.value)
    with pytest.raises(ConfigError) as e:
        make_plan("header-routing", AWS_HUB, vpn={"awsAsn": 7224, "bgp": 1})
    assert "multicloud-kafka:vpn.awsAsn = 7224: must be a private BGP ASN" in str(e.value)
    assert "multicloud-kafka:vpn.bgp = 1: is not a setting of VPN settings" in str(e.value)
