"""AWS <-> GCP: the HA VPN link (both sides), DNS forwarding of Managed Kafka
names into AWS, and how a client of one cloud reaches a cluster of the other.

`link.realize_link` is the registry's realization of the plan's `ha-vpn` links.
"""
