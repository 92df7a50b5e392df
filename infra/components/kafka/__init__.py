"""Kafka itself, through its brokers: pulumi-kafka's provider and resources (ACLs)."""
