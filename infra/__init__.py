"""multicloud-kafka: Kafka as the hub between regions of AWS and GCP."""
