"""Which input changes the real providers answer with a replacement.

pulumi-aws and pulumi-gcp are bridged from the Terraform providers
(terraform-provider-aws, terraform-provider-google), whose resource schemas
mark such properties `ForceNew`; pulumi-random marks every input of
`random_password` `RequiresReplace`. The provider SDKs' Python types do not
carry that flag, so this table lists it by hand, for the resource types this
program registers, and only for the properties that name, place or parent a
resource: names and IDs, the project/region/location, the VPC/network or
cluster it belongs to, a VPC's or subnet's CIDR, an MSK cluster's subnets,
security groups and encryption at rest. Those are what an architecture
switch or a renamed plan item would touch. A change to a property not listed
is reported as an in-place update, so the engine tier cannot see a
replacement the real provider would make for such a property; the provider
documentation of each type (registry.terraform.io/providers/hashicorp/aws,
.../google) is the reference for extending the table.
"""

from __future__ import annotations

# Every input replaces.
ALL = "*"

FORCE_NEW: dict[str, frozenset[str]] = {
    k: frozenset(v)
    for k, v in {
        "random:index/randomPassword:RandomPassword": {ALL},
        # AWS networking.
        "aws:ec2/vpc:Vpc": {"cidrBlock"},
        "aws:ec2/subnet:Subnet": {"vpcId", "cidrBlock", "availabilityZone"},
        "aws:ec2/securityGroup:SecurityGroup": {"name", "namePrefix", "vpcId", "description"},
        "aws:ec2/routeTable:RouteTable": {"vpcId"},
        "aws:ec2/routeTableAssociation:RouteTableAssociation": {"subnetId", "gatewayId"},
        "aws:ec2/route:Route": {"routeTableId", "destinationCidrBlock"},
        "aws:ec2/vpcPeeringConnection:VpcPeeringConnection": {"vpcId", "peerVpcId", "peerRegion", "peerOwnerId"},
        "aws:ec2/vpcPeeringConnectionAccepter:VpcPeeringConnectionAccepter": {"vpcPeeringConnectionId"},
        "aws:ec2/customerGateway:CustomerGateway": {"bgpAsn", "ipAddress", "type"},
        "aws:ec2/vpnGateway:VpnGateway": {"amazonSideAsn", "availabilityZone"},
        "aws:ec2/vpnConnection:VpnConnection": {"type", "staticRoutesOnly"},
        "aws:ec2/vpnGatewayRoutePropagation:VpnGatewayRoutePropagation": {"vpnGatewayId", "routeTableId"},
        # AWS Kafka and what it depends on.
        "aws:msk/cluster:Cluster": {
            "clusterName",
            "brokerNodeGroupInfo.clientSubnets",
            "brokerNodeGroupInfo.securityGroups",
            "brokerNodeGroupInfo.azDistribution",
            "encryptionInfo.encryptionAtRestKmsKeyArn",
            "encryptionInfo.encryptionInTransit.inCluster",
        },
        "aws:msk/configuration:Configuration": {"name"},
        # A Kafka topic cannot be renamed or moved to another cluster.
        "aws:msk/topic:Topic": {"clusterArn", "name"},
        "aws:msk/replicator:Replicator": {"replicatorName", "serviceExecutionRoleArn", "kafkaClusters"},
        "aws:msk/scramSecretAssociation:ScramSecretAssociation": {"clusterArn"},
        "aws:kms/key:Key": {"customerMasterKeySpec", "keyUsage"},
        "aws:iam/role:Role": {"name", "namePrefix", "path"},
        "aws:iam/rolePolicy:RolePolicy": {"role", "name", "namePrefix"},
        "aws:secretsmanager/secret:Secret": {"name", "namePrefix"},
        "aws:secretsmanager/secretPolicy:SecretPolicy": {"secretArn"},
        "aws:secretsmanager/secretVersion:SecretVersion": {"secretId"},
        "aws:cloudwatch/logGroup:LogGroup": {"name", "namePrefix"},
        # GCP networking.
        "gcp:compute/network:Network": {"name", "project", "autoCreateSubnetworks"},
        "gcp:compute/subnetwork:Subnetwork": {"name", "project", "region", "network"},
        "gcp:compute/firewall:Firewall": {"name", "project", "network"},
        "gcp:compute/router:Router": {"name", "project", "region", "network"},
        "gcp:compute/routerInterface:RouterInterface": {"name", "project", "region", "router"},
        "gcp:compute/routerPeer:RouterPeer": {"name", "project", "region", "router", "interface"},
        "gcp:compute/haVpnGateway:HaVpnGateway": {"name", "project", "region", "network"},
        "gcp:compute/externalVpnGateway:ExternalVpnGateway": {"name", "project", "redundancyType", "interfaces"},
        "gcp:compute/vPNTunnel:VPNTunnel": {"name", "project", "region", "vpnGateway", "sharedSecret"},
        "gcp:compute/address:Address": {"name", "project", "region", "subnetwork", "addressType"},
        # GCP Kafka.
        "gcp:managedkafka/cluster:Cluster": {"clusterId", "location", "project"},
        "gcp:managedkafka/topic:Topic": {"topicId", "cluster", "location", "project"},
        "gcp:managedkafka/connectCluster:ConnectCluster": {"connectClusterId", "location", "project", "kafkaCluster"},
        "gcp:managedkafka/connector:Connector": {"connectorId", "connectCluster", "location", "project"},
        "gcp:serviceaccount/account:Account": {"accountId", "project"},
        "gcp:serviceaccount/key:Key": {"serviceAccountId", "keyAlgorithm", "privateKeyType", "publicKeyType"},
        # pulumi-kafka (terraform-provider-kafka): an ACL is its properties, every one replaces;
        # a topic cannot be renamed; a SCRAM credential is its user's.
        "kafka:index/acl:Acl": {ALL},
        "kafka:index/topic:Topic": {"name"},
        "kafka:index/userScramCredential:UserScramCredential": {"username", "scramMechanism"},
    }.items()
}


def replaces(type_: str, changed: set[str]) -> list[str]:
    """The top-level properties among `changed` (dotted paths) whose change replaces a `type_`."""
    table = FORCE_NEW.get(type_, frozenset())
    out = set()
    for path in changed:
        top = path.split(".", 1)[0]
        if ALL in table or any(path == p or path.startswith(p + ".") or p.startswith(path + ".") for p in table):
            out.add(top)
    return sorted(out)
