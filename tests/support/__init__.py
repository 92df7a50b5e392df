"""Support code the tests and tools share.

`stacks`: stack configs and plans; `mocks`: Pulumi mocks; `outputs`: what a
stand-in cloud answers; `emulation`: real Kafka for the kafka tier.
"""
