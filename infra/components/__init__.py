"""Pulumi realization of the Plan.

- `architecture`: the three architecture components and the `COMPONENTS` map.
- `realize`: the one walk over a Plan, and the check that refuses what it cannot build.
- `base`: the interfaces between the walk and each cloud; `registry`: who implements them.
- `aws/`: the AWS realizations; `access`: who needs SASL/SCRAM (pure).
- `gcp/`: the GCP realizations; `crosscloud/`: the AWS <-> GCP HA VPN, DNS
  forwarding, and how a client of one cloud reaches a cluster of the other.
"""
