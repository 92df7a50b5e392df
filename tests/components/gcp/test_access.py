"""Managed Kafka access under mocks: Kafka ACLs from the plan, a connect-only role, nothing project-wide."""

import pytest

from infra import access, cloud_grants
from infra.components.architecture import component_for
from infra.components.gcp.access import CONNECT_PERMISSION, acl_resource_name
from tests.support import mocks
from tests.support.stacks import GCP_HUB, PROJECT, make_plan

ACL = "gcp:managedkafka/acl:Acl"
IAM_MEMBER = "gcp:projects/iAMMember:IAMMember"
CUSTOM_ROLE = "gcp:projects/iAMCustomRole:IAMCustomRole"
ACCOUNT = "gcp:serviceaccount/account:Account"
ARCHITECTURES = ["header-routing", "topic-per-region", "regional-clusters"]


def realize(plan):
    def program():
        a = component_for(plan)("mck", plan)
        return {"access": a.access}

    return program


@pytest.fixture(scope="module", params=ARCHITECTURES)
def gcp_hub(request):
    plan = make_plan(request.param, GCP_HUB, hub="gcp/europe-west1")
    reg, _, value = mocks.run_registry(realize(plan))
    return plan, reg, value


def test_no_principal_holds_a_managed_kafka_role_on_the_project(gcp_hub):
    """ "Configure SASL authentication" grants `roles/managedkafka.client` on the project; that role
    also carries managedkafka.clusters.attachConnectCluster and schema reads ("Managed Service for
    Apache Kafka roles and permissions"). Only `managedkafka.clusters.connect` is needed to connect;
    Kafka ACLs decide the rest ("Access control with IAM and Kafka ACLs")."""
    _, reg, _ = gcp_hub
    assert not [m for m in reg.of_type(IAM_MEMBER) if m.inputs["role"].startswith("roles/managedkafka.")]
    (role,) = reg.of_type(CUSTOM_ROLE)
    assert role.inputs["permissions"] == [CONNECT_PERMISSION]
    bound = {m.inputs["member"] for m in reg.of_type(IAM_MEMBER) if m.inputs["role"].endswith(role.inputs["roleId"])}
    accounts = {
        f"serviceAccount:{a.inputs['accountId']}@{PROJECT}.iam.gserviceaccount.com" for a in reg.of_type(ACCOUNT)
    }
    assert bound == accounts


def test_every_grant_on_a_managed_kafka_cluster_is_an_acl_entry_and_nothing_else_is(gcp_hub):
    plan, reg, value = gcp_hub
    acls = {a.name: a for a in reg.of_type(ACL)}
    expected_names = set()
    for key, cluster in plan.clusters.items():
        if cluster.region.cloud != "gcp":
            continue
        for acl_id, entries in cloud_grants.kafka_acls(plan, key).items():
            name = acl_resource_name(cluster.name, acl_id)
            expected_names.add(name)
            acl = acls[name]
            assert acl.inputs["aclId"] == acl_id and acl.inputs["cluster"] == cluster.name
            assert sorted(e["operation"] for e in acl.inputs["aclEntries"]) == sorted(e.operation for e in entries)
    assert set(acls) == expected_names
    # The GCP services' accounts are exported, one per GCP region.
    for region in ("gcp/europe-west1", "gcp/asia-southeast1"):
        assert value["access"][region]["serviceAccount"].endswith(f"@{PROJECT}.iam.gserviceaccount.com")


def test_acl_entries_are_in_the_form_managed_kafka_accepts(gcp_hub):
    """`gcp.managedkafka.Acl` (Managed Kafka API, AclEntry): the principal is a Google account with
    the StandardAuthorizer prefix `User:`, the host must be "*", at most 100 entries per ACL; an
    ACL ID names its resource pattern (`topic/<name>`, `consumerGroupPrefixed/<prefix>`, ...).
    The API enforces these at apply time only."""
    _, reg, _ = gcp_hub
    for acl in reg.of_type(ACL):
        entries = acl.inputs["aclEntries"]
        assert 1 <= len(entries) <= 100
        for e in entries:
            assert e["principal"].startswith("User:") and e["principal"].endswith(".iam.gserviceaccount.com")
            assert e["host"] == "*" and e["permissionType"] == "ALLOW"
        assert acl.inputs["aclId"].split("/")[0] in ("topic", "consumerGroupPrefixed", "topicPrefixed")


def test_a_regions_own_topics_are_readable_only_by_its_own_identities(gcp_hub):
    plan, reg, value = gcp_hub
    hub = plan.clusters["gcp/europe-west1"]
    europe = f"User:{value['access']['gcp/europe-west1']['serviceAccount']}"
    asia = f"User:{value['access']['gcp/asia-southeast1']['serviceAccount']}"
    for topic in plan.topics["gcp/europe-west1"].values():
        acl = reg.named(acl_resource_name(hub.name, f"topic/{topic.name}"), ACL)
        readers = {e["principal"] for e in acl.inputs["aclEntries"] if e["operation"] == "READ"}
        if topic.destination is None:
            # Header routing shares every event topic: no ACL can isolate a region, as the plan says.
            assert {europe, asia} <= readers
        elif topic.destination == "gcp/europe-west1":
            assert europe in readers and asia not in readers
        elif topic.destination == "gcp/asia-southeast1":
            assert europe not in readers
    group = reg.named(acl_resource_name(hub.name, f"consumerGroupPrefixed/{access.group_prefix(hub.region)}"), ACL)
    assert {e["principal"] for e in group.inputs["aclEntries"]} == {europe}


def test_mirror_connectors_start_after_the_acls_that_let_them_in(gcp_hub):
    _, reg, _ = gcp_hub
    acl_urns = {a.urn for a in reg.of_type(ACL)}
    for connector in [
        *reg.of_type("gcp:managedkafka/connector:Connector"),
        *reg.of_type("aws:mskconnect/connector:Connector"),
    ]:
        assert acl_urns & set(connector.dependencies), connector.name
