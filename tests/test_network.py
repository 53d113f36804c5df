"""NetworkStack requirements, asserted on the synthesized Terraform JSON."""

from __future__ import annotations

import ipaddress

from tests.synth import Synthesis


def test_r01_vpc_cidr_and_dns(synth: Synthesis) -> None:
    vpc = synth.one("network", "aws_vpc")
    assert vpc["cidr_block"] == "10.0.0.0/16"
    assert vpc["enable_dns_support"] is True
    assert vpc["enable_dns_hostnames"] is True


def test_r01_public_and_private_subnets_in_two_azs(synth: Synthesis) -> None:
    subnets = synth.resources("network", "aws_subnet").values()
    tiers = {tier: [s for s in subnets if s["tags"]["Tier"] == tier] for tier in ("public", "private")}
    vpc = ipaddress.ip_network("10.0.0.0/16")
    for tier, members in tiers.items():
        assert len(members) == 2, tier
        zones = [s["availability_zone"] for s in members]
        (zones_name,) = synth.data_sources("network", "aws_availability_zones")
        assert zones == [
            f"${{element(data.aws_availability_zones.{zones_name}.names, {index})}}" for index in range(2)
        ], f"{tier} subnets must use two different AZs"
        for subnet in members:
            assert ipaddress.ip_network(subnet["cidr_block"]).subnet_of(vpc)  # type: ignore[arg-type]
            assert subnet["map_public_ip_on_launch"] is False
    cidrs = [ipaddress.ip_network(s["cidr_block"]) for s in subnets]
    assert not any(a.overlaps(b) for i, a in enumerate(cidrs) for b in cidrs[i + 1 :])


def test_r01_internet_gateway_routes_public_subnets(synth: Synthesis) -> None:
    synth.one("network", "aws_internet_gateway")
    tables = synth.resources("network", "aws_route_table")
    (public,) = [t for name, t in tables.items() if name.startswith("network_public-rt_")]
    assert public["route"][0]["cidr_block"] == "0.0.0.0/0"
    assert public["route"][0]["gateway_id"].startswith("${aws_internet_gateway.")


def test_r02_private_subnets_egress_through_nat_per_az(synth: Synthesis) -> None:
    nats = synth.resources("network", "aws_nat_gateway")
    assert len(nats) == 2, "one NAT gateway per AZ by default"
    assert len({n["subnet_id"] for n in nats.values()}) == 2
    private_tables = [t for n, t in synth.resources("network", "aws_route_table").items() if "private" in n]
    assert len(private_tables) == 2
    targets = {t["route"][0]["nat_gateway_id"] for t in private_tables}
    assert all(t["route"][0]["cidr_block"] == "0.0.0.0/0" for t in private_tables)
    assert targets == {f"${{aws_nat_gateway.{name}.id}}" for name in nats}
    associations = synth.resources("network", "aws_route_table_association")
    assert len(associations) == 4, "every subnet is associated with a route table"


def test_r02_s3_gateway_endpoint_on_private_route_tables(synth: Synthesis) -> None:
    endpoint = synth.one("network", "aws_vpc_endpoint")
    assert endpoint["service_name"] == "com.amazonaws.eu-north-1.s3"
    assert endpoint["vpc_endpoint_type"] == "Gateway"
    assert len(endpoint["route_table_ids"]) == 2


def test_r02_single_nat_option_is_data_not_code(variant_synth: Synthesis) -> None:
    single = variant_synth  # NAT_GATEWAYS=1
    assert len(single.resources("network", "aws_nat_gateway")) == 1
    private_tables = [t for n, t in single.resources("network", "aws_route_table").items() if "private" in n]
    assert len({t["route"][0]["nat_gateway_id"] for t in private_tables}) == 1


def test_r12_vpc_flow_logs_to_cloudwatch(synth: Synthesis) -> None:
    flow = synth.one("network", "aws_flow_log")
    assert flow["traffic_type"] == "ALL"
    assert flow["log_destination_type"] == "cloud-watch-logs"
    assert flow["log_destination"].startswith("${aws_cloudwatch_log_group.")
    assert flow["iam_role_arn"].startswith("${aws_iam_role.")
    group = synth.one("network", "aws_cloudwatch_log_group")
    assert group["name"] == "/catalog-api/dev/vpc-flow-logs"
    assert group["retention_in_days"] == 30


def test_default_security_group_allows_nothing(synth: Synthesis) -> None:
    default = synth.one("network", "aws_default_security_group")
    assert "ingress" not in default and "egress" not in default
