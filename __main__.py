"""The Pulumi program; its body is infra.components.program.main (outputs: docs/aws.md "Outputs")."""

from infra.components.program import main

architecture = main()
