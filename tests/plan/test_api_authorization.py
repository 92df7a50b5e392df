"""`multicloud-kafka:api.authorization`: required, validated, and no silent default (issue 17)."""

from __future__ import annotations

import pytest

from infra import stackfile
from infra.api.settings import ApiAuthorization
from infra.validation import ConfigError
from tests.support.stacks import (
    AWS_PAIR,
    MIXED_REGIONS,
    api_key,
    api_plans,
    api_raw,
    aws_backend,
    config_of,
    gcp_backend,
)

KEY = "multicloud-kafka:api.authorization"
JWT = {"type": "jwt", "issuer": "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_EXAMPLE", "audience": ["orders"]}
AWS_BACKENDS = {"aws/us-east-1": aws_backend("us-east-1"), "aws/eu-west-1": aws_backend("eu-west-1")}
EAST_ONLY = {"aws/us-east-1": aws_backend("us-east-1"), "aws/eu-west-1": "skip"}


def problems(regions, backends, authorization):
    value = api_key(backends)
    if authorization is None:
        value.pop("authorization")
    else:
        value["authorization"] = authorization
    with pytest.raises(ConfigError) as e:
        config_of(api_raw(regions, value))
    return [p for p in e.value.problems if p.key.startswith(KEY)]


def test_the_api_key_without_authorization_is_refused_naming_the_choices():
    (p,) = problems(AWS_PAIR, AWS_BACKENDS, None)
    assert p.key == KEY and "is required" in p.fix and "{type: backend}" in p.fix and "jwt" in p.fix


@pytest.mark.parametrize(
    "authorization, key, advice",
    [
        ({"type": "open"}, f"{KEY}.type", "jwt, iam, backend"),
        ("jwt", f"{KEY}.type", "jwt, iam, backend"),
        ({"type": "jwt", "audience": ["orders"]}, f"{KEY}.issuer", "https URL"),
        ({"type": "jwt", "issuer": "http://login.example.com/", "audience": ["orders"]}, f"{KEY}.issuer", "https URL"),
        ({"type": "jwt", "issuer": JWT["issuer"], "audience": []}, f"{KEY}.audience", "non-empty list"),
        ({"type": "backend", "issuer": JWT["issuer"]}, f"{KEY}.issuer", "known: type"),
    ],
)
def test_each_bad_authorization_names_key_and_fix(authorization, key, advice):
    found = problems(AWS_PAIR, AWS_BACKENDS, authorization)
    assert any(p.key == key and advice in p.fix for p in found), [str(p) for p in found]


def test_jwt_is_refused_where_a_gcp_load_balancer_serves_a_region():
    backends = {
        "aws/us-east-1": aws_backend("us-east-1"),
        "gcp/europe-west1": gcp_backend("europe-west1", "10.130.0.0/23"),
        "gcp/asia-southeast1": "skip",
    }
    (p,) = problems(MIXED_REGIONS, backends, JWT)
    assert p.key == f"{KEY}.type" and "gcp/europe-west1" in p.fix and "set type backend" in p.fix


def test_iam_is_refused_over_several_regions_since_a_signature_names_one():
    (p,) = problems(AWS_PAIR, AWS_BACKENDS, {"type": "iam"})
    assert "SigV4" in p.fix and "aws/eu-west-1, aws/us-east-1" in p.fix
    _, api = api_plans(AWS_PAIR, api_key(EAST_ONLY, authorization={"type": "iam"}))
    assert api is not None and api.authorization == ApiAuthorization("iam")


def test_jwt_and_backend_reach_the_plan():
    _, api = api_plans(AWS_PAIR, api_key(AWS_BACKENDS, authorization=JWT))
    assert api is not None and api.authorization == ApiAuthorization("jwt", JWT["issuer"], ("orders",))
    _, api = api_plans(AWS_PAIR, api_key(AWS_BACKENDS))
    assert api is not None and api.authorization == ApiAuthorization("backend")


def test_the_prod_stack_file_states_who_authenticates():
    raw = stackfile.read(stackfile.stack_path("prod"))
    assert raw["multicloud-kafka:api"]["authorization"] == {"type": "backend"}
