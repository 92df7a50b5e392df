"""The regional request/response API, pure: its settings, validation and plan.

- `settings`: the validated `multicloud-kafka:api` key (backends per region).
- `validate`: reads and checks the key with the config's own checker.
- `plan`: each served region's entry point and the global name (`Plan.api`).
"""
