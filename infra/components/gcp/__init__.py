"""GCP realization: provider, the stack's global VPC, Managed Kafka clusters,
their topics, and Managed Kafka Connect mirroring into them.

`infra/components/registry.py` maps the plan's GCP items to the `realize_*`
functions of these modules; each creates one component per plan item.
"""
