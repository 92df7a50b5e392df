"""The local emulator: a stack's Plan brought up on real Apache Kafka.

One single-node KRaft broker per planned cluster, on loopback ports, with the
planned topics, and MirrorMaker 2 on a Kafka Connect worker per mirror
target with the connectors the cloud runs (infra.mirrormaker); jars from
Maven Central (emulator/pom.xml), run on the machine's JDK, data under
`.emulator/<stack>/`. Driven by the same Plan as the
cloud realization (`build_plan(stackfile.load(stack))`).
"""
