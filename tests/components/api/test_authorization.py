"""The HTTP API's routes are authorized at the gateway unless the config says the backend authenticates (issue 17)."""

from __future__ import annotations

from policy import rules
from tests.policy.policy_support import resources_of
from tests.support.program import run_main
from tests.support.stacks import AWS_PAIR, api_key, api_raw, aws_backend

JWT = {"type": "jwt", "issuer": "https://login.example.com/", "audience": ["orders", "admin"]}
BACKENDS = {"aws/us-east-1": aws_backend("us-east-1"), "aws/eu-west-1": aws_backend("eu-west-1")}


def registered(authorization, backends=BACKENDS):
    registrations, _, refused = run_main(api_raw(AWS_PAIR, api_key(backends, authorization=authorization)))
    assert refused is None
    return registrations


def of_type(regs, type_):
    return [r for r in regs if r.type == type_]


def test_jwt_puts_an_authorizer_on_every_default_route_and_opens_only_the_health_route():
    regs = registered(JWT)
    authorizers = of_type(regs, "aws:apigatewayv2/authorizer:Authorizer")
    assert len(authorizers) == 2
    for a in authorizers:
        assert a.inputs["authorizerType"] == "JWT"
        assert a.inputs["identitySources"] == ["$request.header.Authorization"]
        assert a.inputs["jwtConfiguration"] == {
            "issuer": "https://login.example.com/",
            "audiences": ["orders", "admin"],
        }
    routes = of_type(regs, rules.API_ROUTE)
    default = [r for r in routes if r.inputs["routeKey"] == "$default"]
    assert len(default) == 2 and all(r.inputs["authorizationType"] == "JWT" for r in default)
    assert sorted(r.inputs["authorizerId"] for r in default) == sorted(f"{a.name}-id" for a in authorizers)
    health = [r for r in routes if r.inputs["routeKey"] != "$default"]
    assert [(r.inputs["routeKey"], r.inputs["authorizationType"]) for r in health] == [("GET /healthz", "NONE")] * 2
    assert rules.api_routes_authorized(resources_of(regs)) == []


def test_iam_signs_every_default_route():
    regs = registered({"type": "iam"}, {"aws/us-east-1": aws_backend("us-east-1"), "aws/eu-west-1": "skip"})
    routes = {r.inputs["routeKey"]: r.inputs["authorizationType"] for r in of_type(regs, rules.API_ROUTE)}
    assert routes == {"$default": "AWS_IAM", "GET /healthz": "NONE"}
    assert not of_type(regs, "aws:apigatewayv2/authorizer:Authorizer")


def test_backend_leaves_the_gateway_open_and_says_so_on_the_api():
    regs = registered({"type": "backend"})
    assert {r.inputs["authorizationType"] for r in of_type(regs, rules.API_ROUTE)} == {"NONE"}
    assert {a.inputs["tags"][rules.API_AUTHORIZATION_TAG] for a in of_type(regs, rules.HTTP_API)} == {"backend"}
    assert rules.api_routes_authorized(resources_of(regs)) == []


def test_the_policy_flags_an_open_route_on_an_api_that_does_not_say_the_backend_authenticates():
    resources = resources_of(registered(JWT))
    route = next(r for r in resources if r.type == rules.API_ROUTE and r.props["routeKey"] == "$default")
    opened = [
        r if r is not route else type(r)(**{**r.__dict__, "props": {**r.props, "authorizationType": "NONE"}})
        for r in resources
    ]
    assert rules.api_routes_authorized(opened) == [
        (
            route.urn,
            f"API route {route.name} ($default): no authorization at the gateway; set "
            "multicloud-kafka:api.authorization (jwt or iam), or type backend if the backend authenticates "
            "every request",
        )
    ]
