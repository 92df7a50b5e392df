"""The stand-in for pulumi-kafka: its resources made for real on Kafka on loopback (test support only).

pulumi-kafka's provider plugin cannot be downloaded on these machines. This
servicer serves its resource types to the engine and performs each
operation for real, through the Kafka admin API (confluent-kafka's
AdminClient), on a real Apache Kafka broker: one per cluster the program
configures a `kafka.Provider` for (keyed by the provider's
`bootstrapServers`, so two stacks never share ACLs), started on first use
on loopback ports with the emulator's broker machinery, and run as a real
MSK cluster's authorization is: SASL/SCRAM-SHA-512 clients, Kafka's
StandardAuthorizer, `allow.everyone.if.no.acl.found=false`. The stand-in
logs in as the broker's super user `admin` (the IAM administrator's part on
MSK: docs/aws.md, Kafka ACLs on MSK).

- `kafka:index/acl:Acl`: Create adds the ACL binding, Delete removes exactly it.
- `kafka:index/topic:Topic`: Create makes the topic; Update adds partitions
  and sets its config; Delete deletes it.
- `kafka:index/userScramCredential:UserScramCredential`: Create/Update
  upserts the credential, Delete removes it.

Where each cluster's broker listens is written to `kafka-brokers.json` next
to the ledger, for the tests to log in to it. Check, Diff and the ledger are
the other stand-ins' (`standin.py`).
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from pathlib import Path
from typing import Any, ClassVar

from confluent_kafka import KafkaException
from confluent_kafka.admin import (
    AclBinding,
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    NewPartitions,
    NewTopic,
    ResourcePatternType,
    ResourceType,
    ScramCredentialInfo,
    ScramMechanism,
    UserScramCredentialDeletion,
    UserScramCredentialUpsertion,
)

from emulator import broker as emulated
from emulator import jars, java, ports
from emulator.credentials import ADMIN, Credentials

# Test support on loopback only; the broker's super user.
ADMIN_PASSWORD = "stand-in-admin"
MECHANISM = "SCRAM-SHA-512"
READY_TIMEOUT_S = 90
OP_TIMEOUT_S = 30
BROKERS_FILE = "kafka-brokers.json"
ACL = "kafka:index/acl:Acl"
TOPIC = "kafka:index/topic:Topic"
SCRAM = "kafka:index/userScramCredential:UserScramCredential"


def client_config(address: str, user: str = ADMIN, password: str = ADMIN_PASSWORD) -> dict[str, Any]:
    """librdkafka settings of a SCRAM login to a stand-in broker."""
    return {
        "bootstrap.servers": address,
        "security.protocol": "SASL_PLAINTEXT",
        "sasl.mechanism": MECHANISM,
        "sasl.username": user,
        "sasl.password": password,
        # Failures come back through the calls' futures; librdkafka's own log would repeat them.
        "log_level": 0,
    }


class SecuredBroker(emulated.Broker):
    """An emulator broker (SASL/SCRAM, StandardAuthorizer, nothing allowed without an ACL) with only the
    stand-in's own super user: every other login and ACL is what the program under test makes."""

    QUIET_LOGGERS: ClassVar[dict[str, str]] = {**emulated.Broker.QUIET_LOGGERS, "kafka.authorizer.logger": "warn"}

    def prepare(self) -> Any:  # type: ignore[override]
        return super().prepare(Credentials({}, {ADMIN: ADMIN_PASSWORD}))


class Brokers:
    """One secured broker per cluster (provider bootstrap), started on first use, all stopped by `close`."""

    def __init__(self, root: Path):
        self.root = root
        self._lock = threading.Lock()
        self._brokers: dict[str, SecuredBroker] = {}
        self._admins: dict[str, AdminClient] = {}

    def admin(self, cluster: str) -> AdminClient:
        """The super user's admin client of `cluster`'s broker, started first if need be."""
        with self._lock:
            if cluster not in self._brokers:
                self._brokers[cluster] = self._start(cluster)
                self._admins[cluster] = AdminClient(client_config(self._brokers[cluster].bootstrap))
                self._write()
            return self._admins[cluster]

    def _start(self, cluster: str) -> SecuredBroker:
        slug = hashlib.sha256(cluster.encode()).hexdigest()[:12]
        base = ports.free_base(2)
        b = SecuredBroker(cluster, self.root / slug, base, base + 1, java.find(), jars.ensure(lambda m: None))
        b.node_dir.mkdir(parents=True, exist_ok=True)
        proc = b.prepare()
        if proc.wait(timeout=emulated.FORMAT_TIMEOUT_S) != 0:
            raise RuntimeError(f"formatting the broker of {cluster} failed: {(b.node_dir / 'format.log').read_text()}")
        b.start()
        probe = AdminClient({**client_config(b.bootstrap), "socket.connection.setup.timeout.ms": 1000})
        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:
            if not b.alive():
                raise RuntimeError(f"the broker of {cluster} stopped while starting:\n{b.failure()}")
            try:
                if probe.list_topics(timeout=2).brokers:
                    return b
            except KafkaException:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the broker of {cluster} not ready after {READY_TIMEOUT_S} s: {b.node_dir}")
            time.sleep(0.3)

    def _write(self) -> None:
        listing = {key: {"address": b.bootstrap, "dir": str(b.node_dir)} for key, b in self._brokers.items()}
        (self.root / BROKERS_FILE).write_text(json.dumps(listing, indent=1))

    def close(self) -> None:
        with self._lock:
            self._admins.clear()
            emulated.stop({b.pid: b.node_dir for b in self._brokers.values() if b.pid is not None})


def cluster_key(config: dict[str, Any]) -> str:
    """The cluster a provider's config names: its sorted bootstrap servers (a JSON list, or a list)."""
    servers = config.get("bootstrapServers") or []
    if isinstance(servers, str):
        servers = json.loads(servers) if servers.startswith("[") else servers.split(",")
    return ",".join(sorted(servers))


def acl_id(p: dict[str, Any]) -> str:
    """pulumi-kafka's ACL id: principal|host|operation|permission|resource type|resource name|pattern."""
    fields = ("aclPrincipal", "aclHost", "aclOperation", "aclPermissionType", "aclResourceType", "aclResourceName")
    return "|".join([*(str(p[f]) for f in fields), str(p.get("resourcePatternTypeFilter") or "Literal")])


def _enum(kind: Any, name: str) -> Any:
    """confluent-kafka's member of `kind` for pulumi-kafka's spelling ('DescribeConfigs' -> DESCRIBE_CONFIGS)."""
    return kind["".join("_" + c if c.isupper() and i else c for i, c in enumerate(name)).upper()]


def _binding(p: dict[str, Any]) -> AclBinding:
    return AclBinding(
        _enum(ResourceType, p["aclResourceType"]),
        p["aclResourceName"],
        _enum(ResourcePatternType, p.get("resourcePatternTypeFilter") or "Literal"),
        p["aclPrincipal"],
        p["aclHost"],
        _enum(AclOperation, p["aclOperation"]),
        _enum(AclPermissionType, p["aclPermissionType"]),
    )


def _wait(futures: Any) -> None:
    """Every admin future done; the first failure raised with its Kafka error."""
    for f in futures.values() if isinstance(futures, dict) else futures:
        f.result(timeout=OP_TIMEOUT_S)


def create(admin: AdminClient, token: str, p: dict[str, Any]) -> str:
    """Makes one resource on the broker; returns pulumi-kafka's id for it."""
    if token == ACL:
        _wait(admin.create_acls([_binding(p)], request_timeout=OP_TIMEOUT_S))
        return acl_id(p)
    if token == TOPIC:
        config = {k: str(v) for k, v in (p.get("config") or {}).items()}
        topic = NewTopic(p["name"], int(p["partitions"]), int(p["replicationFactor"]), config=config)
        _wait(admin.create_topics([topic], request_timeout=OP_TIMEOUT_S))
        return str(p["name"])
    if token == SCRAM:
        _upsert_scram(admin, p)
        return f"{p['username']}|{p.get('scramMechanism') or MECHANISM}"
    raise ValueError(f"the kafka stand-in does not serve {token}")


def update(admin: AdminClient, token: str, old: dict[str, Any], new: dict[str, Any]) -> None:
    if token == TOPIC:
        if int(new["partitions"]) > int(old["partitions"]):
            _wait(admin.create_partitions([NewPartitions(new["name"], int(new["partitions"]))]))
        # The topic's config becomes exactly the new map: set what it holds, delete what it dropped.
        config = {k: str(v) for k, v in (new.get("config") or {}).items()}
        dropped = set(old.get("config") or {}) - set(config)
        entries = [ConfigEntry(k, v, incremental_operation=AlterConfigOpType.SET) for k, v in config.items()]
        entries += [ConfigEntry(k, "", incremental_operation=AlterConfigOpType.DELETE) for k in sorted(dropped)]
        resource = ConfigResource(ConfigResource.Type.TOPIC, new["name"], incremental_configs=entries)
        _wait(admin.incremental_alter_configs([resource]))
    elif token == SCRAM:
        _upsert_scram(admin, new)
    else:
        raise ValueError(f"{token} has no in-place update: every change replaces it")


def delete(admin: AdminClient, token: str, p: dict[str, Any]) -> None:
    if token == ACL:
        b = _binding(p)
        exact = AclBindingFilter(
            b.restype, b.name, b.resource_pattern_type, b.principal, b.host, b.operation, b.permission_type
        )
        _wait(admin.delete_acls([exact], request_timeout=OP_TIMEOUT_S))
    elif token == TOPIC:
        _wait(admin.delete_topics([p["name"]], request_timeout=OP_TIMEOUT_S))
    elif token == SCRAM:
        _wait(admin.alter_user_scram_credentials([UserScramCredentialDeletion(p["username"], _mechanism(p))]))
    else:
        raise ValueError(f"the kafka stand-in does not serve {token}")


def _mechanism(p: dict[str, Any]) -> ScramMechanism:
    return ScramMechanism[str(p.get("scramMechanism") or MECHANISM).replace("-", "_")]


def _upsert_scram(admin: AdminClient, p: dict[str, Any]) -> None:
    info = ScramCredentialInfo(_mechanism(p), int(p.get("scramIterations") or 4096))
    password = str(p.get("password") or p.get("passwordWo") or "").encode()
    _wait(admin.alter_user_scram_credentials([UserScramCredentialUpsertion(p["username"], info, password)]))
