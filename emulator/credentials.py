"""The logins of one emulation: generated at `up`, kept in its state directory only.

Every principal of the plan logs in with SASL/SCRAM-SHA-512 under the name
`infra.kafka_acls.scram_logins` gives it (the same names the clouds use), with
a random password made for this emulation. The emulator itself logs in as a
super user (ADMIN) to create topics and ACLs and to read lag. The file is
written with mode 0600 under `.emulator/<stack>/`, never in the repository.
"""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from infra import access, kafka_acls
from infra.architectures import build_plan
from infra.kinds import ActiveHub
from infra.plan import Plan

FILE = "credentials.json"
ADMIN = "emulator-admin"
MECHANISM = "SCRAM-SHA-512"
PROTOCOL = "SASL_PLAINTEXT"


@dataclass(frozen=True)
class Credentials:
    # principal key -> login name
    principals: Mapping[str, str]
    # login name -> password (ADMIN's included)
    passwords: Mapping[str, str]

    def client(self, login: str) -> dict[str, str]:
        """librdkafka settings to log in as `login`."""
        return {
            "security.protocol": PROTOCOL,
            "sasl.mechanism": MECHANISM,
            "sasl.username": login,
            "sasl.password": self.passwords[login],
        }

    def admin(self) -> dict[str, str]:
        return self.client(ADMIN)

    def region(self, region_key: str) -> dict[str, str]:
        """The settings of a region's services: their own login, as the plan names it."""
        return self.client(self.principals[access.services_key(region_key)])

    def jaas(self, login: str) -> str:
        """The JAAS setting for a Java client (a Connect worker, MirrorMaker 2) to log in as `login`."""
        return (
            "org.apache.kafka.common.security.scram.ScramLoginModule required "
            f'username="{login}" password="{self.passwords[login]}";'
        )

    def java_client(self, login: str) -> dict[str, str]:
        """Java client properties to log in as `login`."""
        return {"security.protocol": PROTOCOL, "sasl.mechanism": MECHANISM, "sasl.jaas.config": self.jaas(login)}


def access_plans(plan: Plan) -> tuple[Plan, ...]:
    """The plans whose principals and ACLs an emulation holds: the plan, and with a standby hub the plan with
    the other hub active, so that a failover while the hub is down re-points flows without an admin step.

    Services hold the same grants in both (their contracts name both hubs); the
    flipped plan only adds the flows fed from the standby, each its own login.
    """
    if plan.config.standby is None:
        return (plan,)
    other = ActiveHub.HUB if plan.config.active_hub == ActiveHub.STANDBY else ActiveHub.STANDBY
    return plan, build_plan(dataclasses.replace(plan.config, active_hub=other))


def acls(plan: Plan, logins: Mapping[str, str]) -> dict[str, tuple[kafka_acls.Acl, ...]]:
    """Cluster key -> the plan's ACL entries, and those of the flows the other hub active would add."""
    out: dict[str, set[kafka_acls.Acl]] = {}
    for p in access_plans(plan):
        extra = {logins[k] for k in p.principals if k not in plan.principals}
        for cluster, entries in kafka_acls.acls(p, logins).items():
            out.setdefault(cluster, set()).update(e for e in entries if p is plan or e.login in extra)
    return {cluster: tuple(sorted(entries)) for cluster, entries in out.items()}


def generate(plan: Plan) -> Credentials:
    principals = {k: v for p in access_plans(plan) for k, v in kafka_acls.scram_logins(p).items()}
    logins = [ADMIN, *sorted(set(principals.values()))]
    return Credentials(principals, {login: secrets.token_urlsafe(24) for login in logins})


def save(credentials: Credentials, directory: Path) -> Path:
    path = directory / FILE
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        json.dump({"principals": dict(credentials.principals), "passwords": dict(credentials.passwords)}, out, indent=2)
        out.write("\n")
    return path


def load(directory: Path) -> Credentials | None:
    path = directory / FILE
    if not path.exists():
        return None
    doc = json.loads(path.read_text())
    return Credentials(doc["principals"], doc["passwords"])
