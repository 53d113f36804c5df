"""Aurora PostgreSQL cluster with an RDS-managed master secret (R-08, R-09, R-11)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from cdktf import Postcondition, Precondition, TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.appautoscaling_target import AppautoscalingTarget
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.data_aws_rds_engine_version import DataAwsRdsEngineVersion
from cdktf_cdktf_provider_aws.data_aws_rds_orderable_db_instance import DataAwsRdsOrderableDbInstance
from cdktf_cdktf_provider_aws.db_subnet_group import DbSubnetGroup
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from cdktf_cdktf_provider_aws.rds_cluster import RdsCluster
from cdktf_cdktf_provider_aws.rds_cluster_instance import RdsClusterInstance
from cdktf_cdktf_provider_aws.rds_cluster_parameter_group import (
    RdsClusterParameterGroup,
    RdsClusterParameterGroupParameter,
)
from cdktf_cdktf_provider_aws.security_group import SecurityGroup
from cdktf_cdktf_provider_aws.vpc_security_group_ingress_rule import VpcSecurityGroupIngressRule
from constructs import Construct

from shared.components.iam import service_role
from shared.components.local_script import local_script
from shared.components.scheduled_capacity import CapacityWindow, schedule_windows, track
from shared.naming import Naming

POSTGRES_PORT = 5432
# Deletes, on destroy, the readers Aurora Auto Scaling added (scripts/autoscaled_readers.py says why).


@dataclass(frozen=True, kw_only=True)
class AuroraPostgresProps:
    """Inputs of an ``AuroraPostgres`` cluster."""

    naming: Naming
    """Naming helper for identifiers."""
    vpc_id: str
    """VPC of the cluster's security group."""
    subnet_ids: Sequence[str]
    """Private subnets of the DB subnet group, one per AZ."""
    availability_zones: Sequence[str]
    """AZ of each instance, in order; instances are spread over them for failover."""
    client_security_group_id: str
    """The only security group admitted on the PostgreSQL port (the API tasks)."""
    engine_major: str = "16"
    """aurora-postgresql major version; the minor is resolved from AWS at plan time (R-08, P-01). Default: 16."""
    auto_minor_version_upgrade: bool = True
    """Let AWS apply minor upgrades in the maintenance window; safe with P-01's ignore_changes. Default: True."""
    deletion_protection: bool = False
    """Refuse DeleteDBCluster until turned off (P-07); off keeps R-16. Default: False."""
    final_snapshot: bool = False
    """Take a final snapshot named <project>-aurora-final-<suffix> on destroy (P-07). Default: False."""
    instance_class: str = "db.t3.medium"
    """Instance class of every instance; db.t3.medium or larger. Default: db.t3.medium."""
    instance_count: int = 2
    """Writer plus readers; at least 2 in different AZs for failover. Default: 2."""
    database_name: str = "catalog"
    """Database created in the cluster. Default: catalog."""
    master_username: str = "catalog_admin"
    """Master user; its password is generated and rotated by RDS. Default: catalog_admin."""
    backup_retention_days: int = 7
    """Automatic backup retention, 7 or more. Default: 7 days."""
    log_retention_days: int = 30
    """Days the exported postgresql log is kept. Default: 30 days."""
    slow_query_ms: int = 1000
    """Statements slower than this are logged (log_min_duration_statement). Default: 1000 ms."""
    monitoring_interval_seconds: int = 60
    """Enhanced Monitoring (OS metrics) interval: 0 (off), 1, 5, 10, 15, 30 or 60. Default: 60 s."""
    permissions_boundary: str | None = None
    """ARN of the permissions boundary policy its roles carry; None: none. Default: None."""
    max_readers: int = 3
    """Most readers replica autoscaling may run, counting the ones Terraform creates; 1 to 15. Default: 3."""
    min_readers: int = 1
    """Reader floor Terraform sets: 1, or a sale's min_readers when deployed inside its raised window. Default: 1."""
    reader_cpu_target_percent: float = 70.0
    """Average reader CPU the replica autoscaling holds. Default: 70 %."""
    reader_scale_in_cooldown_seconds: int = 900
    """Wait after removing a reader; a new one takes many minutes to add. Default: 900 s."""
    reader_scale_out_cooldown_seconds: int = 300
    """Wait after adding a reader before adding another. Default: 300 s."""
    sales: tuple[CapacityWindow, ...] = ()
    """Sale windows: the reader floor is raised ``sale_lead`` before each starts and restored at its end. Default: none."""
    sale_lead: timedelta = timedelta(minutes=30)
    """How long before a sale its readers are requested (shared/config.py READER_LEAD says why). Default: 30 min."""
    region: str = "eu-north-1"
    """Region of the cluster, for the AWS CLI that removes autoscaled readers on destroy. Default: eu-north-1."""


class AuroraPostgres(Construct):
    """An encrypted, private, two-AZ Aurora PostgreSQL cluster.

    ``manage_master_user_password`` makes RDS create and rotate the secret
    (JSON keys ``username`` and ``password``), so no password ever appears in
    code, state or plan, and the project creates no secret of its own (F-6).
    """

    def __init__(self, scope: Construct, id: str, *, props: AuroraPostgresProps) -> None:
        super().__init__(scope, id)
        if props.instance_count < 2:
            raise ValueError(f"instance_count={props.instance_count} is not allowed: at least 2 for failover (R-08)")
        if len(props.availability_zones) < 2:
            raise ValueError("availability_zones needs at least 2 zones so the instances fail over across AZs (R-08)")
        naming = props.naming
        identifier = naming.name("aurora")
        # Resolved from AWS at plan time, so the version exists in the region when applied (P-01):
        # AWS's default minor of the major's parameter group family, which AWS keeps offered.
        # Not `preferred_versions`: the provider fails the plan when none of them is offered any
        # more ("no RDS engine versions match the criteria and preferred versions",
        # internal/service/rds/engine_version_data_source.go), the withdrawn-minor failure again.
        # Not `latest` alone: it sorts by creation time and could pick a "16.x-limitless" build.
        version = DataAwsRdsEngineVersion(
            self,
            "engine-version",
            engine="aurora-postgresql",
            parameter_group_family=f"aurora-postgresql{props.engine_major}",
            default_only=True,
            latest=True,
        )

        # The plan fails, before anything is created, when the instance class is not orderable for
        # the version the lookup returned. With preferred_instance_classes the data source answers
        # "no RDS DB Instance Classes match the criteria" (an instance_class filter would also fail
        # on the several storage types AWS lists per class), but when only one option is left it
        # returns that one whatever its class (internal/service/rds/orderable_instance_data_source.go):
        # the postcondition names the setting then.
        # A data source is read during the plan, and a failed read or postcondition stops the plan.
        DataAwsRdsOrderableDbInstance(
            self,
            "orderable-class",
            engine="aurora-postgresql",
            engine_version=version.version_actual,
            preferred_instance_classes=[props.instance_class],
            lifecycle=TerraformResourceLifecycle(
                postcondition=[
                    Postcondition(
                        condition=f'${{self.instance_class == "{props.instance_class}"}}',
                        error_message=f"Instance class {props.instance_class} is not orderable for the looked-up aurora-postgresql version; choose another instance_class.",
                    )
                ]
            ),
        )

        subnet_group = DbSubnetGroup(self, "subnets", name=naming.name("db-subnets"), subnet_ids=list(props.subnet_ids))
        security_group = SecurityGroup(
            self,
            "sg",
            name=naming.name("db-sg"),
            description="Aurora PostgreSQL: 5432 from the API tasks only",
            vpc_id=props.vpc_id,
            tags={"Name": naming.name("db-sg")},
        )
        VpcSecurityGroupIngressRule(
            self,
            "from-app",
            security_group_id=security_group.id,
            referenced_security_group_id=props.client_security_group_id,
            ip_protocol="tcp",
            from_port=POSTGRES_PORT,
            to_port=POSTGRES_PORT,
            description="PostgreSQL from the API tasks",
        )
        # Query logging: DDL always, any statement slower than slow_query_ms. TLS required:
        # rds.force_ssl is 0 by default in Aurora PostgreSQL ("Securing Aurora PostgreSQL data
        # with SSL/TLS", Aurora user guide, and AWS knowledge center aurora-postgresql-ssl-certificates,
        # read 2026-11-29); 1 makes every connection hostssl in pg_hba. pending-reboot is the one
        # apply method RDS accepts for static and dynamic parameters alike: a new cluster starts
        # with it, an existing one enforces it from its next reboot (docs/security.md).
        parameters = RdsClusterParameterGroup(
            self,
            "parameters",
            name=naming.name("aurora-params"),
            family=version.parameter_group_family,
            description="Catalog API Aurora PostgreSQL: query logging",
            parameter=[
                RdsClusterParameterGroupParameter(name="log_statement", value="ddl"),
                RdsClusterParameterGroupParameter(name="log_min_duration_statement", value=str(props.slow_query_ms)),
                RdsClusterParameterGroupParameter(name="rds.force_ssl", value="1", apply_method="pending-reboot"),
            ],
        )
        monitoring_role = service_role(
            self,
            "monitoring-role",
            name=naming.name("rds-monitoring"),
            service="monitoring.rds.amazonaws.com",
            permissions_boundary=props.permissions_boundary,
        )
        IamRolePolicyAttachment(
            self,
            "monitoring-policy",
            role=monitoring_role.name,
            policy_arn="arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole",
        )
        # Created here rather than by RDS so that it has a retention and is destroyed with the stack.
        log_group = CloudwatchLogGroup(
            self,
            "postgresql-logs",
            name=f"/aws/rds/cluster/{identifier}/postgresql",
            retention_in_days=props.log_retention_days,
        )
        cluster = RdsCluster(
            self,
            "cluster",
            cluster_identifier=identifier,
            engine="aurora-postgresql",
            engine_version=version.version_actual,
            allow_major_version_upgrade=False,
            database_name=props.database_name,
            master_username=props.master_username,
            manage_master_user_password=True,
            port=POSTGRES_PORT,
            db_subnet_group_name=subnet_group.name,
            db_cluster_parameter_group_name=parameters.name,
            vpc_security_group_ids=[security_group.id],
            storage_encrypted=True,
            backup_retention_period=props.backup_retention_days,
            preferred_backup_window="02:00-03:00",
            preferred_maintenance_window="sun:03:30-sun:04:30",
            enabled_cloudwatch_logs_exports=["postgresql"],
            copy_tags_to_snapshot=True,
            iam_database_authentication_enabled=True,
            deletion_protection=props.deletion_protection,
            skip_final_snapshot=not props.final_snapshot,
            final_snapshot_identifier=naming.name("aurora-final") if props.final_snapshot else None,
            depends_on=[log_group],
            # Once created, the version is AWS's to move (maintenance, end of life) and a person's to
            # upgrade on purpose: a later plan never tries to "downgrade" an upgraded cluster
            # (terraform-aws-modules/terraform-aws-rds-aurora#228), whatever the data source says then.
            lifecycle=TerraformResourceLifecycle(
                ignore_changes=["engine_version"],
                # Limitless Database versions need a limitless cluster; fail the plan, not the create.
                precondition=[
                    Precondition(
                        condition=f'${{!strcontains({version.fqn}.version_actual, "limitless")}}',
                        error_message="The Aurora engine version lookup returned a Limitless Database version; set engine_major or pin a standard minor.",
                    )
                ],
            ),
        )
        instances: list[RdsClusterInstance] = []
        for index in range(props.instance_count):
            instance = RdsClusterInstance(
                self,
                f"instance-{index}",
                identifier=f"{identifier}-{index + 1}",
                cluster_identifier=cluster.id,
                engine=cluster.engine,
                instance_class=props.instance_class,
                availability_zone=props.availability_zones[index % len(props.availability_zones)],
                db_subnet_group_name=subnet_group.name,
                publicly_accessible=False,
                performance_insights_enabled=True,
                monitoring_interval=props.monitoring_interval_seconds,
                monitoring_role_arn=monitoring_role.arn,
                auto_minor_version_upgrade=props.auto_minor_version_upgrade,
                promotion_tier=index,
            )
            instances.append(instance)

        # Reader autoscaling (S-04): Aurora adds readers of the writer's class (promotion tier 15,
        # names starting application-autoscaling-) and removes only the ones it added ("Amazon
        # Aurora Auto Scaling with Aurora Replicas", Aurora user guide, read 2026-11-29). The floor
        # of one is the reader Terraform creates; those Aurora adds are not in Terraform's state
        # (docs/deployment.md says what destroy and a redeploy do with them). Registered after
        # the instances: Aurora scales only an available cluster with its writer, and on destroy
        # the target goes first.
        # On destroy, after the scalable target is gone (so nothing adds a reader any more) and
        # before the cluster: the readers Aurora added are deleted, or DeleteDBCluster is refused.
        # A destroy-time provisioner may refer only to itself, so the values are literals.
        added_readers = local_script(
            self,
            "added-readers",
            script="autoscaled_readers.py",
            on_destroy=True,
            depends_on=[cluster],
            environment={
                "CLUSTER_ID": identifier,
                "KEEP": ",".join(f"{identifier}-{index + 1}" for index in range(props.instance_count)),
                "AWS_REGION": props.region,
            },
        )
        readers = AppautoscalingTarget(
            self,
            "readers",
            service_namespace="rds",
            scalable_dimension="rds:cluster:ReadReplicaCount",
            resource_id=f"cluster:{cluster.cluster_identifier}",
            min_capacity=props.min_readers,
            max_capacity=props.max_readers,
            depends_on=[*instances, added_readers],
        )
        track(
            self,
            "reader-cpu-tracking",
            name=naming.name("reader-cpu-tracking"),
            target=readers,
            metric="RDSReaderAverageCPUUtilization",
            target_value=props.reader_cpu_target_percent,
            scale_in_cooldown=props.reader_scale_in_cooldown_seconds,
            scale_out_cooldown=props.reader_scale_out_cooldown_seconds,
        )
        schedule_windows(
            self,
            "sale",
            naming=naming,
            kind="readers",
            target=readers,
            windows=props.sales,
            lead=props.sale_lead,
            restore_min=1,
            restore_max=props.max_readers,
        )

        self.endpoint: str = cluster.endpoint
        self.reader_endpoint: str = cluster.reader_endpoint
        self.port: int = POSTGRES_PORT
        self.database_name: str = props.database_name
        # The literal identifier: alarms and the dashboard can name the cluster without
        # a cross-stack reference (the edge layer does not read the data layer).
        self.cluster_identifier: str = identifier
        self.security_group_id: str = security_group.id
        self.secret_arn: str = cluster.master_user_secret.get(0).secret_arn
