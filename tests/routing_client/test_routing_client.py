"""The routing client reads the contract and refuses what it does not allow (no broker)."""

import contextlib

import pytest

from infra import stackfile
from infra.architectures import build_plan
from routing_client import Contract, DeliveryError, RoutingConsumer, RoutingError, RoutingProducer


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
    with pytest.raises(RoutingError, match=r"event 'nope'.*create_account, update_profile"):
        c.route("nope", "aws/us-east-1")
    with pytest.raises(RoutingError, match=r"destination 'aws/mars-1'.*aws/us-east-1, gcp/europe-west1"):
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


def _malformed(doc: dict) -> list[tuple[str, dict]]:
    """Each way of breaking a good contract, with a fragment of the error it must give."""
    import copy

    cases = []

    def case(match: str, change) -> None:
        bad = copy.deepcopy(doc)
        change(bad)
        cases.append((match, bad))

    event, dest = "create_account", "gcp/europe-west1"
    case("produce must be a map", lambda d: d.update(produce=["x"]))
    case(f"produce.{event} must be a map", lambda d: d["produce"].update({event: "TOPIC"}))
    case(f"produce.{event} names no destination", lambda d: d["produce"].update({event: {}}))
    case(f"produce.{event}.{dest} lacks topic", lambda d: d["produce"][event].update({dest: {"headers": {}}}))
    case(
        f"produce.{event}.{dest}.topic must be a non-empty string", lambda d: d["produce"][event][dest].update(topic=7)
    )
    case(f"produce.{event}.{dest}.headers must be a map", lambda d: d["produce"][event][dest].update(headers=["h"]))
    case(
        f"produce.{event}.{dest}.headers.route-cloud must be a non-empty string",
        lambda d: d["produce"][event][dest]["headers"].update({"route-cloud": None}),
    )
    case(
        "destination 'GCP/europe-west1' is not a region key",
        lambda d: d["produce"][event].update({"GCP/europe-west1": d["produce"][event].pop(dest)}),
    )
    case("consume.create_account must be a non-empty string", lambda d: d["consume"].update({event: 3}))
    case("headerFilter must be a map", lambda d: d.update(headerFilter=None))
    case("produceCluster must be a non-empty string", lambda d: d.update(produceCluster=["aws/us-east-1"]))
    case("has keys", lambda d: d["consume"].update({1: "X"}))
    case("consume.nope: event 'nope' has no produce routes", lambda d: d["consume"].update(nope="NOPE"))
    # A region the stack does not have: this contract's consumer would keep nothing.
    case(
        "no destination region of the stack is routed to topic 'CREATE_ACCOUNT' with headers",
        lambda d: d["headerFilter"].update({"route-region": "mars-1"}),
    )
    case(
        "no destination region of the stack is routed to topic 'ELSEWHERE'",
        lambda d: d["consume"].update({event: "ELSEWHERE"}),
    )
    return cases


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_malformed_contract_is_a_routing_error_naming_the_key(stack):
    doc = _contract(stack, "gcp/europe-west1")
    cases = _malformed(doc)
    if stack == "prod":
        cases = [(m, d) for m, d in cases if "headers" not in m and "route-" not in m and "mars" not in str(d)]
    for match, bad in cases:
        with pytest.raises(RoutingError, match=match.replace("(", r"\(").replace(".", r"\.")):
            Contract.from_dict(bad)


def test_a_contract_that_does_not_fit_the_stack_is_refused_when_the_client_is_built():
    doc = _contract("dev", "gcp/europe-west1")
    doc["headerFilter"] = {"route-cloud": "gcp", "route-region": "mars-1"}
    with pytest.raises(RoutingError, match="this region would receive nothing"):
        RoutingConsumer(doc, {"aws/us-east-1": "127.0.0.1:1"}, "g")
    with pytest.raises(RoutingError, match="no bootstrap address for cluster 'aws/us-east-1'"):
        RoutingConsumer(_contract("prod", "aws/us-east-1"), {"gcp/europe-west1": "127.0.0.1:1"}, "g")
    with pytest.raises(RoutingError, match="bootstrap address of cluster 'aws/us-east-1' is 9092"):
        RoutingProducer(_contract("dev", "aws/us-east-1"), {"aws/us-east-1": 9092})


def test_an_upper_case_destination_is_refused_with_a_hint():
    c = Contract.from_dict(_contract("dev", "aws/us-east-1"))
    with pytest.raises(RoutingError, match=r"'GCP/europe-west1' is not a region.*lower-case"):
        c.route("create_account", "GCP/europe-west1")


def test_a_producer_wide_delivery_callback_is_refused():
    with pytest.raises(RoutingError, match="config sets on_delivery: pass on_delivery to send"):
        RoutingProducer(
            _contract("dev", "aws/us-east-1"), {"aws/us-east-1": "127.0.0.1:1"}, config={"on_delivery": print}
        )


def _json_values():
    from hypothesis import strategies as st

    scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=8)
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
        max_leaves=12,
    )


def test_any_json_shaped_input_is_a_contract_or_a_routing_error():
    """Never a KeyError, TypeError or AttributeError, whatever part is malformed."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    good = _contract("dev", "gcp/europe-west1")
    keys = st.sampled_from(["produceCluster", "consumeCluster", "produce", "consume", "headerFilter"])

    @settings(max_examples=300, deadline=None)
    @given(st.one_of(_json_values(), st.tuples(keys, _json_values()), st.tuples(keys, keys, _json_values())))
    def check(change):
        import copy

        if isinstance(change, tuple) and len(change) == 2:
            doc = {**good, change[0]: change[1]}
        elif isinstance(change, tuple):
            doc = copy.deepcopy(good)
            inner = doc[change[0]]
            if isinstance(inner, dict) and inner:
                inner[next(iter(inner))] = change[2]
            else:
                doc[change[1]] = change[2]
        else:
            doc = change
        with contextlib.suppress(RoutingError):
            Contract.from_dict(doc)

    check()


NOWHERE = {"aws/us-east-1": "127.0.0.1:1"}
QUIET = {"log_level": 0}


def test_close_purges_what_is_still_queued_after_its_timeout_and_reports_it():
    """No broker answers: close() gives up after its timeout and names every message it could not deliver."""
    producer = RoutingProducer(
        _contract("dev", "aws/us-east-1"), NOWHERE, config={"message.timeout.ms": 60000, **QUIET}
    )
    for i in range(10):
        producer.send("create_account", "gcp/europe-west1", b"v", key=str(i))
    assert len(producer) == 10 and producer.flush(0.5) == 10
    with pytest.raises(DeliveryError, match="10 messages not delivered: 10 Local: Purged in queue") as raised:
        producer.close(timeout=0.5)
    assert sorted(f.key for f in raised.value.failed) == sorted(str(i).encode() for i in range(10))
    assert {(f.event, f.destination, f.topic) for f in raised.value.failed} == {
        ("create_account", "gcp/europe-west1", "CREATE_ACCOUNT")
    }
    assert producer.failed == 10
    producer.close()
    with pytest.raises(RuntimeError, match="closed"):
        producer.send("create_account", "gcp/europe-west1", b"v")


def test_a_with_block_left_by_an_exception_still_raises_what_failed_keeping_the_exception_as_context():
    producer = RoutingProducer(_contract("dev", "aws/us-east-1"), NOWHERE, config={"message.timeout.ms": 300, **QUIET})
    with pytest.raises(DeliveryError) as raised, producer:
        producer.send("update_profile", "aws/us-east-1", b"v", key="k", headers={"trace-id": "t1"})
        raise KeyError("the service's own failure")
    assert isinstance(raised.value.__context__, KeyError)
    failed = raised.value.failed[0]
    assert failed.reason == "Local: Message timed out (_MSG_TIMED_OUT)"
    assert dict(failed.headers) == {"trace-id": "t1", "route-cloud": "aws", "route-region": "us-east-1"}


def test_a_producer_nobody_closed_says_at_exit_what_it_could_not_deliver():
    import json
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    code = (
        "import json, sys\n"
        "from routing_client import RoutingProducer\n"
        "p = RoutingProducer(json.loads(sys.argv[1]), {'aws/us-east-1': '127.0.0.1:1'},\n"
        "                    config={'message.timeout.ms': 300, 'log_level': 0})\n"
        "for i in range(5):\n"
        "    p.send('create_account', 'gcp/europe-west1', b'v', key=str(i))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, json.dumps(_contract("dev", "aws/us-east-1"))],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PYTHONPATH": str(root)},
        check=False,
    )
    assert "a RoutingProducer was not closed: 5 messages not delivered: 5 Local: Message timed out" in done.stderr
