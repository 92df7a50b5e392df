"""multicloud-kafka: Kafka as the hub between regions of AWS and GCP."""

# Optional features register their config keys in config.EXTRA_KEYS when
# imported; importing them here makes every entry point (program, scripts,
# tests) know the keys before any stack file is validated.
from infra import api  # noqa: E402,F401
