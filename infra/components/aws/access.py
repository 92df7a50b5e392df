"""The IAM policy of each AWS region's services: exactly their grants on MSK, by topic and group ARN."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from infra import access, cloud_grants, geo, naming
from infra.components.aws.msk import MskCluster
from infra.components.base import Context, Site, expect
from infra.plan import Grant

IAM_POLICY_NAME_MAX = 128


@dataclass(frozen=True)
class ServicesPolicyArgs:
    # The region whose services the policy is for (its key, as in the plan).
    region: str
    # Cluster key -> (the MSK cluster's ARN, the services' grant there): the
    # clusters they reach with IAM.
    grants: Mapping[str, tuple[pulumi.Input[str], Grant]]


class ServicesPolicy(pulumi.ComponentResource):
    """A customer-managed IAM policy holding one region's services to their grants.

    `kafka-cluster:Connect` on each cluster they reach, produce and consume
    actions on exactly their topics' ARNs, group actions on their group
    prefix (infra/cloud_grants.py); no wildcard topic. Service teams attach it
    to the roles their workloads run as: the stack exports its ARN
    (`access.<region>.policyArn`).
    """

    TYPE = "multicloud-kafka:aws:ServicesPolicy"

    def __init__(self, name: str, args: ServicesPolicyArgs, opts: pulumi.ResourceOptions):
        super().__init__(self.TYPE, name, None, opts)
        keys = sorted(args.grants)
        grants = [args.grants[k][1] for k in keys]
        document = pulumi.Output.all(*(args.grants[k][0] for k in keys)).apply(
            lambda arns: json.dumps(cloud_grants.msk_policy(list(zip(arns, grants, strict=True))))
        )
        self.policy = aws.iam.Policy(
            name,
            name=naming.bounded(name, IAM_POLICY_NAME_MAX),
            description=f"Kafka access of the services of {args.region}: their topics and groups only",
            policy=document,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.arn = self.policy.arn
        self.register_outputs({"policyArn": self.arn})


@dataclass(frozen=True)
class AwsAccess:
    """What the AWS side of access control made: region key -> its services' policy."""

    policies: Mapping[str, ServicesPolicy]

    @property
    def outputs(self) -> Mapping[str, Any]:
        return {region: {"policyArn": p.arn} for region, p in self.policies.items()}


def realize_access(ctx: Context, sites: Mapping[str, Site]) -> AwsAccess:
    """One ServicesPolicy per AWS region whose services reach an MSK cluster with IAM.

    Mirror flows' roles are made by their own components (MSK Replicator,
    MSK Connect), each scoped to its flow.
    """
    policies: dict[str, ServicesPolicy] = {}
    for region_key, region in ctx.plan.config.regions.items():
        if region.cloud != geo.AWS:
            continue
        grants = cloud_grants.iam_grants(ctx.plan, access.services_key(region_key))
        if not grants:
            continue
        policies[region_key] = ServicesPolicy(
            naming.resource_name(ctx.prefix, region, "kafka-services"),
            ServicesPolicyArgs(
                region=region_key,
                grants={
                    k: (expect(sites[k].cluster, MskCluster, f"services of {region_key}").arn, g)
                    for k, g in grants.items()
                },
            ),
            pulumi.ResourceOptions(parent=ctx.parent, provider=ctx.provider(region)),
        )
    return AwsAccess(policies)
