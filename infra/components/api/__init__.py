"""The regional request/response API (`multicloud-kafka:api`).

`RegionalApi` (component.py) gives each served region an entry point of
its cloud (aws.py: API Gateway HTTP API; gcp.py: regional external
Application Load Balancer) and joins them under one global name with
latency records and health checks in the user's Route 53 zone (dns.py).
"""
