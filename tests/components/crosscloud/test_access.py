"""AWS principals on a GCP hub under mocks: each logs in as its own service account, held by ACLs."""

import pytest

from infra import cloud_grants
from infra.components.architecture import component_for
from infra.components.gcp.access import acl_resource_name
from infra.components.gcp.managed_kafka import account_id
from tests.support import mocks
from tests.support.stacks import GCP_HUB, PROJECT, make_plan

ACL = "gcp:managedkafka/acl:Acl"


@pytest.fixture(scope="module")
def gcp_hub():
    plan = make_plan("regional-clusters", GCP_HUB, hub="gcp/europe-west1")
    reg, _, _ = mocks.run_registry(lambda: component_for(plan)("mck", plan))
    return plan, reg


def user(cluster, login):
    return f"User:{account_id(cluster, login)}@{PROJECT}.iam.gserviceaccount.com"


def test_every_foreign_principal_is_held_by_acls_as_its_own_login(gcp_hub):
    plan, reg = gcp_hub
    hub = plan.clusters["gcp/europe-west1"]
    for acl_id, entries in cloud_grants.kafka_acls(plan, hub.key).items():
        acl = reg.named(acl_resource_name(hub.name, acl_id), ACL)
        got = {(e["principal"], e["operation"]) for e in acl.inputs["aclEntries"]}
        for entry in entries:
            grant = plan.principals[entry.principal].grants[hub.key]
            if grant.login is not None:
                assert (user(hub.name, grant.login), entry.operation) in got


def test_a_mirror_flow_out_of_gcp_reads_with_its_own_login_not_its_regions(gcp_hub):
    plan, reg = gcp_hub
    hub = plan.clusters["gcp/europe-west1"]
    flow = "mirror:gcp/europe-west1->aws/us-west-2"
    login = plan.principals[flow].grants[hub.key].login
    services_login = plan.principals["services:aws/us-west-2"].grants[hub.key].login
    assert login != services_login
    for topic in plan.mirrors[flow.removeprefix("mirror:")].topics:
        acl = reg.named(acl_resource_name(hub.name, f"topic/{topic}"), ACL)
        readers = {e["principal"] for e in acl.inputs["aclEntries"] if e["operation"] == "READ"}
        assert user(hub.name, login) in readers
        # Besides the flow, only the region the topics are for: its services drain them after a switch.
        assert readers == {user(hub.name, login), user(hub.name, services_login)}
