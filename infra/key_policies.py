"""The explicit policies of the stack's customer-managed KMS keys and the VPC flow logs' role, as plain data.

Every key policy has the same shape: the account's root administers the key
(so IAM in the account can manage it and nobody is ever locked out) but may
not use it; only the AWS services that use the key may encrypt and decrypt
with it, each held to this account and region ("Key policies in AWS KMS",
"Default key policy", and "kms:ViaService" in the AWS KMS Developer Guide).
CloudWatch Logs, which encrypts log groups itself, is named as the regional
service principal and held to this account's log groups ("Encrypt log data
in CloudWatch Logs using AWS KMS", Amazon CloudWatch Logs User Guide).
No Pulumi here: the program builds the policies from these, the tests read them.
"""

from __future__ import annotations

from typing import Any

VERSION = "2012-10-17"
# Everything about a key but using it or granting its use: aliases, describe,
# enable, disable, policy, tags, grants revoked, deletion scheduled and cancelled.
ADMIN_ACTIONS = [
    "kms:CreateAlias",
    "kms:Describe*",
    "kms:Enable*",
    "kms:List*",
    "kms:Put*",
    "kms:Update*",
    "kms:Revoke*",
    "kms:Disable*",
    "kms:Get*",
    "kms:Delete*",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:ScheduleKeyDeletion",
    "kms:CancelKeyDeletion",
    "kms:RotateKeyOnDemand",
]
USE_ACTIONS = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"]
# A service that stores data under the key on a caller's behalf (MSK, Secrets
# Manager) also creates grants for its own later use.
GRANT_ACTIONS = ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"]


def partition_of(arn: str) -> str:
    """'aws' of arn:aws:iam::123456789012:user/x (aws-cn, aws-us-gov elsewhere)."""
    return arn.split(":")[1]


def root(partition: str, account: str) -> str:
    return f"arn:{partition}:iam::{account}:root"


def _admin(partition: str, account: str) -> dict[str, Any]:
    return {
        "Sid": "AccountAdministers",
        "Effect": "Allow",
        "Principal": {"AWS": root(partition, account)},
        "Action": ADMIN_ACTIONS,
        "Resource": "*",
    }


def via_services_key_policy(partition: str, account: str, region: str, services: list[str]) -> dict[str, Any]:
    """A key for data that `services` (e.g. 'kafka', 'secretsmanager') keep for principals of this account.

    The principals of the account may use the key only through those services
    in this region, never directly (kms:ViaService, kms:CallerAccount).
    """
    via = sorted(f"{s}.{region}.amazonaws.com" for s in services)
    return {
        "Version": VERSION,
        "Statement": [
            _admin(partition, account),
            {
                "Sid": "UsedOnlyThrough" + "And".join(s.capitalize() for s in sorted(services)),
                "Effect": "Allow",
                "Principal": {"AWS": root(partition, account)},
                "Action": USE_ACTIONS + GRANT_ACTIONS,
                "Resource": "*",
                "Condition": {"StringEquals": {"kms:ViaService": via, "kms:CallerAccount": account}},
            },
        ],
    }


def logs_key_policy(partition: str, account: str, region: str) -> dict[str, Any]:
    """The key of a region's CloudWatch log groups: usable by CloudWatch Logs for this account's log groups only."""
    return {
        "Version": VERSION,
        "Statement": [
            _admin(partition, account),
            {
                "Sid": "CloudWatchLogsEncryptsThisAccountsLogGroups",
                "Effect": "Allow",
                "Principal": {"Service": f"logs.{region}.amazonaws.com"},
                "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
                "Resource": "*",
                "Condition": {
                    "ArnLike": {
                        "kms:EncryptionContext:aws:logs:arn": f"arn:{partition}:logs:{region}:{account}:log-group:*"
                    }
                },
            },
        ],
    }


def flow_logs_trust(partition: str, account: str, region: str) -> dict[str, Any]:
    """The VPC flow logs service may assume the role for this account's flow logs only
    ("IAM role for publishing flow logs to CloudWatch Logs", Amazon VPC User Guide)."""
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "vpc-flow-logs.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": account},
                    "ArnLike": {"aws:SourceArn": f"arn:{partition}:ec2:{region}:{account}:vpc-flow-log/*"},
                },
            }
        ],
    }


def flow_logs_publish(log_group_arn: str) -> dict[str, Any]:
    """What the flow logs' role may do: write streams of its one log group."""
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                "Resource": [log_group_arn, f"{log_group_arn}:*"],
            },
            # DescribeLogGroups lists groups and names none (Service Authorization Reference).
            {"Effect": "Allow", "Action": "logs:DescribeLogGroups", "Resource": "*"},
        ],
    }
