"""AWS realization: provider, network, MSK cluster, topics, peering, replicator.

`infra/components/registry.py` maps the plan's AWS items to the `realize_*`
functions of these modules; each creates one component per plan item.
"""
