"""The Pulumi program; its body is infra.components.program.main (README "Outputs")."""

from infra.components.program import main

architecture, regional_api, regions = main()
