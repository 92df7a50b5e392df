"""Kafka tier: the Secrets Manager config provider resolves MirrorMaker 2's login on a real Connect worker.

Two SCRAM brokers on loopback and a Kafka Connect worker whose plugin path
holds the config provider exactly as the MSK Connect plugin zip carries it
(our provider jar, Secrets Manager's client, aws-msk-iam-auth's SDK core;
Kafka's own MirrorMaker jars stay the worker's, as the emulator runs Kafka
4.x). The login's password exists only in the brokers' SCRAM credentials and
in a Secrets Manager secret, served on loopback by moto's server: moto is
test support only (requirements-dev.txt), a stand-in for AWS's service,
never product code. The worker's own login and the connector configuration,
which `infra.mirrormaker.connector_configs` generates as for MSK Connect,
hold `${secretsmanager:...}` references only, so the flow copies messages
only because the provider resolved them. A reference to a field the secret
lacks is refused with the provider's error naming the field.
"""

from __future__ import annotations

import json
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest
from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient, NewTopic
from moto.server import ThreadedMotoServer

from emulator import connect, java, ports
from emulator.broker import Broker, stop
from emulator.credentials import ADMIN, MECHANISM, PROTOCOL, Credentials
from emulator.errors import EmulatorError
from emulator.stack import READY_TIMEOUT_S, _format, _wait_ready
from infra import mirrormaker, plugin_jars, secretrefs
from infra.kinds import MirrorMechanism
from infra.plan import MirrorFlow

REGION = "us-east-1"
SECRET = secretrefs.secret_name("mck-test-gcp-europe-west1-to-aws-us-east-1", "source")
TOPIC = "CREATE_ACCOUNT_AWS_US_EAST_1"
FLOW = MirrorFlow(
    "gcp/europe-west1->aws/us-east-1",
    "gcp/europe-west1",
    "aws/us-east-1",
    (TOPIC,),
    MirrorMechanism.MM2_MSK_CONNECT,
    sync_group_offsets=False,
)
MESSAGES = 50
COPY_TIMEOUT_S = 60
QUIET = {"log_level": 3}
# Kafka's own MirrorMaker 2 jars of the plugin are for MSK Connect's 3.7.x; the emulator's worker has its own.
WORKER_HAS_ITS_OWN = ("mm2/connect-mirror-",)


@dataclass(frozen=True)
class Setup:
    brokers: dict[str, Broker]
    worker: connect.Worker
    password: str
    admin: dict[str, str]
    # The secret's current version, which the cloud's references pin.
    version_id: str


def plugin_dir(root: Path) -> Path:
    """The MSK Connect plugin zip's provider and SDK jars, unpacked as one plugin under a plugin path."""
    path = root / "plugins"
    with zipfile.ZipFile(plugin_jars.plugin_zip()) as z:
        for name in z.namelist():
            if not name.startswith(WORKER_HAS_ITS_OWN):
                z.extract(name, path)
    return path


def reference_login(field: str = secretrefs.PASSWORD, version_id: str = "") -> dict[str, str]:
    """Java client properties logging in as the admin, its password a reference to the secret."""
    jaas = secretrefs.jaas_template(MECHANISM).format(ADMIN, secretrefs.reference(SECRET, field, version_id))
    return {"security.protocol": PROTOCOL, "sasl.mechanism": MECHANISM, "sasl.jaas.config": jaas}


@pytest.fixture(scope="module")
def setup(kafka_jars: Path, tmp_path_factory, monkeypatch_module) -> Iterator[Setup]:
    root = tmp_path_factory.mktemp("config-provider")
    base = ports.free_base(6)
    moto = ThreadedMotoServer(ip_address=ports.HOST, port=base + 5, verbose=False)
    moto.start()
    endpoint = f"http://{ports.HOST}:{base + 5}"
    # The worker inherits these: the SDK's default chain finds dummy keys first and never looks for
    # instance metadata or a profile, so nothing but the loopback stand-in is ever asked.
    for k, v in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": str(root / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(root / "no-aws-credentials"),
    }.items():
        monkeypatch_module.setenv(k, v)
    credentials = Credentials({}, {ADMIN: "pw-" + "x" * 8 + str(base)})
    password = credentials.passwords[ADMIN]
    secrets = boto3.client(
        "secretsmanager",
        region_name=REGION,
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    created = secrets.create_secret(Name=SECRET, SecretString=json.dumps({"username": ADMIN, "password": password}))
    javabin = java.find()
    brokers = {
        key: Broker(key, root / key.replace("/", "-"), base + 2 * i, base + 2 * i + 1, javabin, kafka_jars)
        for i, key in enumerate((FLOW.source, FLOW.target))
    }
    worker = connect.Worker(FLOW.target, root / "worker", base + 4, javabin, kafka_jars)
    try:
        _format(brokers.values(), credentials)
        for b in brokers.values():
            b.start()
        admin = credentials.admin()
        _wait_ready(list(brokers.values()), READY_TIMEOUT_S, admin)
        for b in brokers.values():
            client = AdminClient({"bootstrap.servers": b.bootstrap, **admin, **QUIET})
            for future in client.create_topics([NewTopic(TOPIC, 3, 1)], operation_timeout=30).values():
                future.result(timeout=30)
        worker.write_config(
            "worker.properties",
            {
                **connect.worker_properties(FLOW.target, brokers[FLOW.target].bootstrap, worker.rest_port, {}),
                **reference_login(),
                **secretrefs.worker_properties(REGION, endpoint),
                "plugin.path": str(plugin_dir(root)),
            },
        )
        worker.start()
        connect.wait_answering(worker, worker.alive)
        yield Setup(brokers, worker, password, admin, created["VersionId"])
    finally:
        stop({p.pid: p.node_dir for p in (worker, *brokers.values()) if p.pid is not None})
        moto.stop()


@pytest.fixture(scope="module")
def monkeypatch_module() -> Iterator[pytest.MonkeyPatch]:
    with pytest.MonkeyPatch.context() as mp:
        yield mp


def connector_configs(setup: Setup, login: dict[str, str]) -> dict[str, dict[str, str]]:
    """The flow's connectors as for MSK Connect; the producer and admin client Connect makes for a connector
    log in with the same reference (on MSK Connect they use IAM), as the emulator's do (connect.configs_for)."""
    bootstrap = {k: b.bootstrap for k, b in setup.brokers.items()}
    configs = mirrormaker.connector_configs(
        FLOW,
        mirrormaker.Endpoint(mirrormaker.alias(FLOW.source), bootstrap[FLOW.source], login),
        mirrormaker.Endpoint(mirrormaker.alias(FLOW.target), bootstrap[FLOW.target], login),
        internal_replication_factor=1,
    )
    overrides = {f"{kind}.override.{k}": v for kind in ("producer", "admin") for k, v in login.items()}
    return {name: {**config, **overrides} for name, config in configs.items()}


def test_mirrormaker_copies_with_a_login_that_only_the_config_provider_knows(setup: Setup):
    login = reference_login(version_id=setup.version_id)
    configs = {k: {**c, **secretrefs.NO_RELOAD} for k, c in connector_configs(setup, login).items()}
    connect.put_connectors(setup.worker.url, configs)
    (name,) = configs
    connect.wait_running(setup.worker, [name], setup.worker.alive)
    stored = connect.rest(f"{setup.worker.url}/connectors/{name}/config")
    assert setup.password not in json.dumps(stored)
    reference = f"${{secretsmanager:{SECRET}#{setup.version_id}:password}}"
    assert stored["source.cluster.sasl.jaas.config"].endswith(f'password="{reference}";')
    assert setup.password not in (setup.worker.node_dir / "worker.properties").read_text()

    producer = Producer({"bootstrap.servers": setup.brokers[FLOW.source].bootstrap, **setup.admin, **QUIET})
    sent = [f"m{i}".encode() for i in range(MESSAGES)]
    for value in sent:
        producer.produce(TOPIC, value)
    assert producer.flush(30) == 0
    consumer = Consumer(
        {
            "bootstrap.servers": setup.brokers[FLOW.target].bootstrap,
            **setup.admin,
            **QUIET,
            "group.id": "config-provider-check",
            "auto.offset.reset": "earliest",
        }
    )
    consumer.subscribe([TOPIC])
    got: list[bytes] = []
    deadline = time.monotonic() + COPY_TIMEOUT_S
    try:
        while len(got) < MESSAGES and time.monotonic() < deadline:
            msg = consumer.poll(0.5)
            if msg is not None and msg.error() is None:
                got.append(msg.value())
    finally:
        consumer.close()
    assert sorted(got) == sorted(sent), f"{len(got)} of {MESSAGES} copied in {COPY_TIMEOUT_S} s"


def test_a_reference_to_a_field_the_secret_lacks_is_refused_naming_it(setup: Setup):
    """Connect resolves a new connector's references when it validates the configuration: the provider's
    error reaches whoever creates the connector, naming the secret and the field but no value."""
    configs = connector_configs(setup, reference_login(field="passwd"))
    (name,) = configs
    with pytest.raises(EmulatorError, match=f"secret {SECRET} has no field passwd; it has \\[password, username\\]"):
        connect.put_connectors(setup.worker.url, {f"{name}-broken": {**configs[name], "name": f"{name}-broken"}})
    assert f"{name}-broken" not in connect.status(setup.worker.url)
