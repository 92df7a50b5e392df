"""The Pulumi policy pack of multicloud-kafka: rules.py holds the rules, __main__.py the pack."""
