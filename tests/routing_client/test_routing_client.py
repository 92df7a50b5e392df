"""The routing client reads the contract and refuses what it does not allow (no broker)."""

import pytest

from infra import stackfile
from infra.architectures import build_plan
from routing_client import Contract, RoutingConsumer, RoutingError, RoutingProducer


def _contract(stack: str, region: str) -> dict:
    return build_plan(stackfile.load(stack)).routing[region].to_dict()


def test_header_routing_routes_to_the_event_topic_with_router_headers():
    c = Contract.from_dict(_contract("dev", "aws/us-east-1"))
    route = c.route("create_account", "gcp/europe-west1")
    assert route.topic == "CREATE_ACCOUNT"
    assert route.headers == {"route-cloud": "gcp", "route-region": "europe-west1"}


def test_topic_per_region_routes_to_the_destination_topic_without_headers():
    c = Contract.from_dict(_contract("staging", "gcp/europe-west1"))
    route = c.route("update_profile", "aws/us-west-2")
    assert route.topic == "UPDATE_PROFILE_AWS_US_WEST_2"
    assert route.headers == {}


def test_unknown_event_or_destination_is_named_with_what_is_known():
    c = Contract.from_dict(_contract("dev", "aws/us-east-1"))
    with pytest.raises(RoutingError, match="event 'nope'.*create_account, update_profile"):
        c.route("nope", "aws/us-east-1")
    with pytest.raises(RoutingError, match="destination 'aws/mars-1'.*aws/us-east-1, gcp/europe-west1"):
        c.route("create_account", "aws/mars-1")


def test_the_json_text_of_the_stack_output_is_the_same_contract():
    import json

    doc = _contract("staging", "aws/us-west-2")
    assert Contract.from_dict(json.dumps(doc)) == Contract.from_dict(doc)
    with pytest.raises(RoutingError, match="not valid JSON"):
        Contract.from_dict("{nope")


def test_a_contract_missing_keys_and_a_missing_bootstrap_are_refused():
    with pytest.raises(RoutingError, match="lacks headerFilter"):
        Contract.from_dict({k: v for k, v in _contract("dev", "aws/us-east-1").items() if k != "headerFilter"})
    with pytest.raises(RoutingError, match="no bootstrap address for cluster 'aws/us-east-1'"):
        RoutingProducer(_contract("dev", "aws/us-east-1"), {"gcp/europe-west1": "127.0.0.1:1"})
    with pytest.raises(RoutingError, match="events nope are not consumed"):
        RoutingConsumer(_contract("dev", "aws/us-east-1"), {"aws/us-east-1": "127.0.0.1:1"}, "g", events=["nope"])


def test_the_client_does_not_import_pulumi_or_the_plan():
    import subprocess
    import sys

    code = "import sys, routing_client; print(sorted(m for m in sys.modules if m.split('.')[0] in ('pulumi', 'infra')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
