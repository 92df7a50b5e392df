"""Support code the tests and tools share: stack configs (`stacks`), Pulumi mocks (`mocks`), stand-in outputs (`outputs`)."""
