"""Tier 1: the plan of each architecture, for any valid config (hypothesis)."""

import dataclasses
import re

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from infra import access, geo, naming, stackfile
from infra.architectures import build_plan
from infra.config import validate
from infra.kinds import Architecture, ClusterRole, LinkKind, PrincipalKind
from infra.validation import ConfigError, k

REGION_KEYS = sorted(f"{c}/{r}" for c in geo.CLOUDS for r in geo.REGIONS[c])
EVENT = st.from_regex(r"[a-z][a-z0-9_]{0,20}", fullmatch=True)


@st.composite
def raw_configs(draw, architecture=st.sampled_from(list(Architecture))):
    regions = draw(st.lists(st.sampled_from(REGION_KEYS), min_size=1, max_size=7, unique=True))
    # Disjoint /16s inside 10.0.0.0/8, in a random order.
    seconds = draw(st.permutations(range(256)))
    events = draw(st.lists(EVENT, min_size=1, max_size=5, unique=True))
    raw = {
        k("architecture"): draw(architecture),
        k("hub"): draw(st.sampled_from(regions)),
        k("regions"): {r: {"cidr": f"10.{seconds[i]}.0.0/16"} for i, r in enumerate(regions)},
        k("events"): {e: draw(st.fixed_dictionaries({}, optional={"partitions": st.integers(1, 64)})) for e in events},
        "gcp:project": "p",
    }
    # Generated event names may legitimately collide (a_aws_us_east_1 vs a):
    # that is a config error, covered by test_config; here we want valid ones.
    assume(not list(naming.topic_problems(validate_regions(raw), events)))
    return raw


def validate_regions(raw):
    return [validate({**raw, k("events"): {"x": {}}}, "t").regions[r] for r in raw[k("regions")]]


def deliveries(plan, source, event, destination):
    """The regions whose consumers accept one message, following the plan.

    The message is written where the source's contract says, copied by every
    mirror flow that carries its topic, and accepted by a region whose
    contract reads that topic on that cluster with a header filter it passes.
    """
    rc = plan.routing[source]
    route = rc.produce[event][destination]
    assert route.topic in plan.topics[rc.produce_cluster], "produced to a topic that does not exist"
    landed = {(rc.produce_cluster, route.topic)}
    for flow in plan.mirrors.values():
        if (flow.source, route.topic) in landed and route.topic in flow.topics:
            assert route.topic in plan.topics[flow.target], "mirrored into a topic that does not exist"
            landed.add((flow.target, route.topic))
    return {
        region
        for region, c in plan.routing.items()
        if (c.consume_cluster, c.consume[event]) in landed
        and all(route.headers.get(h) == v for h, v in c.header_filter.items())
    }


FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])


@FAST
@given(raw_configs())
def test_every_message_reaches_exactly_its_region(raw):
    plan = build_plan(validate(raw, "t"))
    regions = list(plan.config.regions)
    for source in regions:
        for event in plan.config.events:
            for destination in regions:
                assert deliveries(plan, source, event, destination) == {destination}


@FAST
@given(raw_configs())
def test_topic_and_cluster_counts_per_architecture(raw):
    plan = build_plan(validate(raw, "t"))
    cfg = plan.config
    n_regions, n_events = len(cfg.regions), len(cfg.events)
    hub_topics = plan.topics[cfg.hub.key]
    assert plan.hub.role == ClusterRole.HUB
    if plan.architecture == "header-routing":
        assert len(hub_topics) == n_events
        assert all(t.destination is None for t in hub_topics.values())
    else:
        assert len(hub_topics) == n_events * n_regions
    if plan.architecture == "regional-clusters":
        assert set(plan.clusters) == set(cfg.regions)
        assert all(c.role == ClusterRole.LOCAL for key, c in plan.clusters.items() if key != cfg.hub.key)
        targets = [f.target for f in plan.mirrors.values()]
        assert sorted(targets) == sorted(set(cfg.regions) - {cfg.hub.key})
        for flow in plan.mirrors.values():
            assert flow.source == cfg.hub.key
            own = {naming.region_topic(e, cfg.regions[flow.target]) for e in cfg.events}
            assert set(flow.topics) == own == set(plan.topics[flow.target])
    else:
        assert list(plan.clusters) == [cfg.hub.key]
        assert not plan.mirrors


@FAST
@given(raw_configs())
def test_topic_names_are_legal_and_metric_safe(raw):
    plan = build_plan(validate(raw, "t"))
    for topics in plan.topics.values():
        for name, topic in topics.items():
            assert name == topic.name
            assert re.fullmatch(r"[A-Z][A-Z0-9_]*", name) and len(name) <= 249


@FAST
@given(raw_configs())
def test_hub_and_spoke_links(raw):
    plan = build_plan(validate(raw, "t"))
    cfg = plan.config
    spokes = sorted(set(cfg.regions) - {cfg.hub.key})
    assert sorted(link.spoke for link in plan.links.values()) == spokes
    for link in plan.links.values():
        assert link.hub == cfg.hub.key
        a, b = cfg.regions[link.hub], cfg.regions[link.spoke]
        expected = (
            LinkKind.HA_VPN
            if a.cloud != b.cloud
            else (LinkKind.SHARED_VPC if a.cloud == geo.GCP else LinkKind.VPC_PEERING)
        )
        assert link.kind == expected


@FAST
@given(raw_configs(), st.sampled_from(REGION_KEYS), EVENT)
def test_adding_a_region_or_event_renames_nothing(raw, new_region, new_event):
    """Maps, not lists: growth only adds clusters, topics, flows and links."""
    assume(new_region not in raw[k("regions")] and new_event not in raw[k("events")])
    before = build_plan(validate(raw, "t"))
    used = {r["cidr"] for r in raw[k("regions")].values()}
    free = next(f"10.{i}.0.0/16" for i in range(256) if f"10.{i}.0.0/16" not in used)
    grown = {
        **raw,
        k("regions"): {**raw[k("regions")], new_region: {"cidr": free}},
        k("events"): {**raw[k("events")], new_event: {}},
    }
    try:
        after = build_plan(validate(grown, "t"))
    except ConfigError:
        assume(False)
    for key, cluster in before.clusters.items():
        assert after.clusters[key] == cluster
    for key, topics in before.topics.items():
        assert set(topics) <= set(after.topics[key])
    assert set(before.links) <= set(after.links)
    for key, flow in before.mirrors.items():
        assert set(flow.topics) <= set(after.mirrors[key].topics)


JUNK = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 10**6) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner, max_size=3),
    max_leaves=6,
)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_any_junk_gives_a_config_error_never_a_traceback(data):
    raw = stackfile.read(stackfile.stack_path("prod"))
    keys = [*sorted(raw), k("topicDefaults"), k("msk"), k("managedKafka"), k("namePrefix")]
    for key in data.draw(st.lists(st.sampled_from(keys), min_size=1, max_size=3, unique=True)):
        raw[key] = data.draw(JUNK)
    try:
        cfg = validate(raw, "t")
    except ConfigError as e:
        assert e.problems and all(p.key and p.fix for p in e.problems)
    else:
        build_plan(cfg)


@pytest.mark.parametrize("stack", stackfile.stacks())
def test_every_stack_file_plans(stack):
    plan = build_plan(stackfile.load(stack))
    assert set(plan.routing) == set(plan.config.regions)


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_principals_hold_exactly_what_the_contracts_and_flows_use(stack):
    plan = build_plan(stackfile.load(stack))
    for region, contract in plan.routing.items():
        grants = plan.principals[f"services:{region}"].grants
        produced = {r.topic for dests in contract.produce.values() for r in dests.values()}
        assert set(grants[contract.produce_cluster].produce) == produced
        assert set(grants[contract.consume_cluster].consume) == set(contract.consume.values())
        assert set(grants) == contract.clusters()
        if contract.failover is not None:
            assert set(grants[contract.failover.produce_cluster].produce) == produced
            assert set(grants[contract.failover.consume_cluster].consume) >= set(contract.consume.values())
    for flow in plan.mirrors.values():
        grants = plan.principals[f"mirror:{flow.key}"].grants
        assert grants[flow.source].consume == flow.topics and grants[flow.target].produce == flow.topics
        assert not grants[flow.source].produce and not grants[flow.target].consume
    assert len(plan.principals) == len(plan.routing) + len(plan.mirrors)


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_a_login_exactly_where_a_principal_crosses_clouds(stack):
    plan = build_plan(stackfile.load(stack))
    for p in plan.principals.values():
        home = plan.config.regions[p.home]
        for cluster, grant in p.grants.items():
            crosses = plan.clusters[cluster].region.cloud != home.cloud
            own = access.scram_username(home) if p.kind == PrincipalKind.SERVICES else mirror_login_of(plan, p.key)
            assert (grant.login == own) if crosses else grant.login is None
            assert (grant.login is not None) == (own in plan.logins(cluster))


def mirror_login_of(plan, principal_key):
    return next(access.mirror_login(f) for f in plan.mirrors.values() if access.mirror_key(f.key) == principal_key)


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_no_two_principals_share_a_login(stack):
    """A mirror flow never logs in as the region's services: each login holds one principal's grants."""
    plan = build_plan(stackfile.load(stack))
    owners: dict[tuple[str, str], set[str]] = {}
    for p in plan.principals.values():
        for cluster, grant in p.grants.items():
            if grant.login:
                owners.setdefault((cluster, grant.login), set()).add(p.key)
    assert owners and all(len(keys) == 1 for keys in owners.values()), owners


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_who_reads_each_regions_messages_follows_the_architecture(stack):
    from infra import access

    cfg = stackfile.load(stack)
    for arch in Architecture:
        plan = build_plan(dataclasses.replace(cfg, architecture=arch))
        readers = access.readers_by_region(plan)
        assert set(readers) == set(cfg.regions)
        for region, keys in readers.items():
            # The replication between the hubs copies every region's topics onto the other hub: no reader.
            homes = {plan.principals[k].home for k in keys if k not in access.hub_replication(plan)}
            if arch == Architecture.HEADER_ROUTING:
                # The event topics carry every region's messages to every region's consumers.
                assert homes == set(cfg.regions) and not access.isolated(plan, region, keys)
            else:
                assert homes == {region} and access.isolated(plan, region, keys)
                assert f"services:{region}" in keys


def test_requiring_isolation_refuses_header_routing_naming_the_keys(prod_raw):
    prod_raw[k("architecture")] = "header-routing"
    prod_raw[k("requireIsolation")] = True
    with pytest.raises(ConfigError) as e:
        validate(prod_raw, "prod")
    (p,) = e.value.problems
    assert p.key == k("architecture") and p.value == "header-routing"
    assert "requireIsolation" in p.fix and "topic-per-region or regional-clusters" in p.fix
    prod_raw[k("architecture")] = "topic-per-region"
    assert validate(prod_raw, "prod").require_isolation is True
