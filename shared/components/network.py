"""A two-AZ VPC whose private subnets can reach AWS APIs and registries (R-01, R-02)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from cdktf import Fn
from cdktf_cdktf_provider_aws.data_aws_availability_zones import (
    DataAwsAvailabilityZones,
    DataAwsAvailabilityZonesFilter,
)
from cdktf_cdktf_provider_aws.default_security_group import DefaultSecurityGroup
from cdktf_cdktf_provider_aws.eip import Eip
from cdktf_cdktf_provider_aws.internet_gateway import InternetGateway
from cdktf_cdktf_provider_aws.nat_gateway import NatGateway
from cdktf_cdktf_provider_aws.route_table import RouteTable, RouteTableRoute
from cdktf_cdktf_provider_aws.route_table_association import RouteTableAssociation
from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from cdktf_cdktf_provider_aws.subnet import Subnet
from cdktf_cdktf_provider_aws.vpc import Vpc
from cdktf_cdktf_provider_aws.vpc_endpoint import VpcEndpoint
from constructs import Construct

from shared.naming import Naming

AZ_COUNT = 2


@dataclass(frozen=True, kw_only=True)
class NetworkProps:
    """Inputs of a ``Network``."""

    naming: Naming
    """Naming helper for Name tags."""
    region: str
    """AWS region, for the S3 gateway endpoint service name, e.g. eu-north-1."""
    cidr_block: str = "10.0.0.0/16"
    """VPC CIDR (R-01). Default: 10.0.0.0/16."""
    nat_gateways: int = 2
    """NAT gateways: 2 = one per AZ (an AZ outage keeps egress), 1 = single shared NAT. Default: 2."""


class Network(Construct):
    """VPC with public and private subnets in two AZs, IGW, NAT egress and an S3 endpoint.

    Public subnets are /24s at the start of the range; private subnets are /20s in
    the upper half so Fargate tasks (one ENI each) have room to scale.
    """

    def __init__(self, scope: Construct, id: str, *, props: NetworkProps) -> None:
        super().__init__(scope, id)
        if props.nat_gateways not in (1, AZ_COUNT):
            raise ValueError(f"nat_gateways={props.nat_gateways} is not allowed: 1 or {AZ_COUNT}")
        naming = props.naming
        network = ipaddress.ip_network(props.cidr_block)
        public_cidrs = list(network.subnets(new_prefix=24))[:AZ_COUNT]
        private_cidrs = list(network.subnets(new_prefix=20))[8 : 8 + AZ_COUNT]

        zones = DataAwsAvailabilityZones(
            self,
            "zones",
            state="available",
            filter=[DataAwsAvailabilityZonesFilter(name="opt-in-status", values=["opt-in-not-required"])],
        )
        vpc = Vpc(
            self,
            "vpc",
            cidr_block=props.cidr_block,
            enable_dns_support=True,
            enable_dns_hostnames=True,
            tags={"Name": naming.name("vpc")},
        )
        # Taking over the default security group with no rules makes it deny everything.
        DefaultSecurityGroup(self, "default-sg", vpc_id=vpc.id, tags={"Name": naming.name("default-sg")})
        igw = InternetGateway(self, "igw", vpc_id=vpc.id, tags={"Name": naming.name("igw")})

        public_rt = RouteTable(
            self,
            "public-rt",
            vpc_id=vpc.id,
            route=[RouteTableRoute(cidr_block="0.0.0.0/0", gateway_id=igw.id)],
            tags={"Name": naming.name("public-rt")},
        )
        public: list[Subnet] = []
        private: list[Subnet] = []
        private_rts: list[RouteTable] = []
        nats: list[NatGateway] = []
        for index in range(AZ_COUNT):
            zone = Fn.element(zones.names, index)
            letter = "ab"[index]
            subnet = Subnet(
                self,
                f"public-{index}",
                vpc_id=vpc.id,
                cidr_block=str(public_cidrs[index]),
                availability_zone=zone,
                map_public_ip_on_launch=False,
                tags={"Name": naming.name(f"public-{letter}"), "Tier": "public"},
            )
            RouteTableAssociation(self, f"public-{index}-rta", subnet_id=subnet.id, route_table_id=public_rt.id)
            public.append(subnet)
            if index < props.nat_gateways:
                eip = Eip(self, f"nat-{index}-eip", domain="vpc", tags={"Name": naming.name(f"nat-eip-{letter}")})
                nats.append(
                    NatGateway(
                        self,
                        f"nat-{index}",
                        allocation_id=eip.id,
                        subnet_id=subnet.id,
                        tags={"Name": naming.name(f"nat-{letter}")},
                        depends_on=[igw],
                    )
                )
        for index in range(AZ_COUNT):
            letter = "ab"[index]
            subnet = Subnet(
                self,
                f"private-{index}",
                vpc_id=vpc.id,
                cidr_block=str(private_cidrs[index]),
                availability_zone=Fn.element(zones.names, index),
                map_public_ip_on_launch=False,
                tags={"Name": naming.name(f"private-{letter}"), "Tier": "private"},
            )
            # Each private subnet leaves through the NAT in its own AZ when there is one.
            nat = nats[min(index, len(nats) - 1)]
            route_table = RouteTable(
                self,
                f"private-{index}-rt",
                vpc_id=vpc.id,
                route=[RouteTableRoute(cidr_block="0.0.0.0/0", nat_gateway_id=nat.id)],
                tags={"Name": naming.name(f"private-rt-{letter}")},
            )
            RouteTableAssociation(self, f"private-{index}-rta", subnet_id=subnet.id, route_table_id=route_table.id)
            private.append(subnet)
            private_rts.append(route_table)

        # ECR image layers come from S3: the free gateway endpoint keeps them off the NAT.
        VpcEndpoint(
            self,
            "s3-endpoint",
            vpc_id=vpc.id,
            service_name=f"com.amazonaws.{props.region}.s3",
            vpc_endpoint_type="Gateway",
            route_table_ids=[rt.id for rt in private_rts],
            tags={"Name": naming.name("s3-endpoint")},
        )

        # The API tasks' security group is created here, without rules, so that the
        # data layer can admit it on 5432 and the app layer can attach it, without a
        # Data -> App dependency (F-9). Each layer adds the rules for the flows it owns.
        app_sg = SecurityGroup(
            self,
            "app-sg",
            name=naming.name("app-sg"),
            description="Catalog API tasks; rules are added by the data and app layers",
            vpc_id=vpc.id,
            tags={"Name": naming.name("app-sg")},
        )

        self.vpc_id: str = vpc.id
        self.app_security_group_id: str = app_sg.id
        self.vpc_cidr_block: str = vpc.cidr_block
        self.public_subnet_ids: list[str] = [s.id for s in public]
        self.private_subnet_ids: list[str] = [s.id for s in private]
        self.private_subnet_zones: list[str] = [s.availability_zone for s in private]
