"""DataStack requirements: Aurora PostgreSQL and its secret."""

from __future__ import annotations

from tests.synth import Synthesis


def test_r08_engine_version_offered_in_region(synth: Synthesis) -> None:
    # What the region offers is asked of AWS at plan time (P-01), for major 16 (R-08, F-2: no 15.x).
    cluster = synth.one("data", "aws_rds_cluster")
    assert cluster["engine"] == "aurora-postgresql"
    assert cluster["engine_version"] == synth.ref_data("data", "aws_rds_engine_version", "version_actual")
    (source,) = synth.data_sources("data", "aws_rds_engine_version").values()
    assert (source["engine"], source["parameter_group_family"]) == ("aurora-postgresql", "aurora-postgresql16")


def test_r08_two_instances_in_different_azs(synth: Synthesis) -> None:
    instances = list(synth.resources("data", "aws_rds_cluster_instance").values())
    assert len(instances) >= 2
    zones = [i["availability_zone"] for i in instances]
    assert len(set(zones)) == len(zones), "each instance in its own AZ"
    for instance in instances:
        assert instance["availability_zone"].startswith(
            "${data.terraform_remote_state.cross-stack-reference-input-network"
        )
        assert instance["publicly_accessible"] is False


def test_r08_instance_class_t3_medium_or_larger(synth: Synthesis) -> None:
    too_small = {"db.t3.micro", "db.t3.small", "db.t4g.micro", "db.t4g.small"}
    for instance in synth.resources("data", "aws_rds_cluster_instance").values():
        assert instance["instance_class"].startswith("db.")
        assert instance["instance_class"] not in too_small


def test_r08_backups_encryption_logs_private(synth: Synthesis) -> None:
    cluster = synth.one("data", "aws_rds_cluster")
    assert cluster["backup_retention_period"] >= 7
    assert cluster["storage_encrypted"] is True
    assert cluster["enabled_cloudwatch_logs_exports"] == ["postgresql"]
    subnet_group = synth.one("data", "aws_db_subnet_group")
    assert len(subnet_group["subnet_ids"]) == 2
    for subnet in subnet_group["subnet_ids"]:
        assert "cross-stack-output-aws_subnetnetwork_private-" in subnet, "DB subnets are the private ones"
    assert cluster["db_subnet_group_name"] == synth.ref("data", "aws_db_subnet_group", "name")
    group = synth.one("data", "aws_cloudwatch_log_group")
    assert group["name"] == "/aws/rds/cluster/catalog-api-aurora-dev/postgresql"
    assert group["retention_in_days"] == 30


def test_r09_password_managed_by_rds_never_literal(synth: Synthesis) -> None:
    cluster = synth.one("data", "aws_rds_cluster")
    assert cluster["manage_master_user_password"] is True
    assert "master_password" not in cluster
    assert "master_password_wo" not in cluster
    assert "aws_secretsmanager_secret_version" not in synth.stacks["data"].get("resource", {})


def test_r09_db_secret_is_rds_managed_and_owned_secrets_set_a_recovery_window(synth: Synthesis) -> None:
    # RDS creates and rotates the database secret: the data layer owns none. The only secret
    # the project creates is the API's admin token (app layer), with recovery_window_in_days
    # (F-6), 0 outside production so destroy and re-create work at once.
    assert not any(t.startswith("aws_secretsmanager_") for t in synth.stacks["data"]["resource"])
    owned = [(s, body) for s, t, _, body in synth.all_resources() if t == "aws_secretsmanager_secret"]
    assert [(s, body["name"], body["recovery_window_in_days"]) for s, body in owned] == [
        ("app", "catalog-api-admin-token-dev", 0)
    ]


def test_r11_postgres_reachable_from_app_security_group_only(synth: Synthesis) -> None:
    rules = list(synth.resources("data", "aws_vpc_security_group_ingress_rule").values())
    assert len(rules) == 1
    rule = rules[0]
    assert (rule["from_port"], rule["to_port"], rule["ip_protocol"]) == (5432, 5432, "tcp")
    assert rule["referenced_security_group_id"].startswith(
        "${data.terraform_remote_state.cross-stack-reference-input-network.outputs.cross-stack-output-aws_security_groupnetwork_app-sg"
    )
    assert "cidr_ipv4" not in rule
    group = synth.one("data", "aws_security_group")
    assert "ingress" not in group and "egress" not in group


def test_query_logging_parameter_group_matches_engine_major(synth: Synthesis) -> None:
    cluster = synth.one("data", "aws_rds_cluster")
    group = synth.one("data", "aws_rds_cluster_parameter_group")
    assert group["family"] == synth.ref_data("data", "aws_rds_engine_version", "parameter_group_family")
    assert cluster["engine_version"] == synth.ref_data("data", "aws_rds_engine_version", "version_actual")
    parameters = {p["name"]: p["value"] for p in group["parameter"]}
    assert parameters == {"log_statement": "ddl", "log_min_duration_statement": "1000", "rds.force_ssl": "1"}
    assert cluster["db_cluster_parameter_group_name"] == synth.ref("data", "aws_rds_cluster_parameter_group", "name")


def test_enhanced_monitoring_and_performance_insights(synth: Synthesis) -> None:
    role = synth.ref("data", "aws_iam_role", "arn")
    for instance in synth.resources("data", "aws_rds_cluster_instance").values():
        assert instance["monitoring_interval"] == 60
        assert instance["monitoring_role_arn"] == role
        assert instance["performance_insights_enabled"] is True
    cluster = synth.one("data", "aws_rds_cluster")
    assert cluster["copy_tags_to_snapshot"] is True
    assert cluster["iam_database_authentication_enabled"] is True
