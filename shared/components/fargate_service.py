"""ECS Fargate service on FARGATE_SPOT with autoscaling and safe deployments (R-03 to R-07, R-11, R-12)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from cdktf import ITerraformDependable, TerraformResourceLifecycle
from cdktf_cdktf_provider_aws.appautoscaling_target import AppautoscalingTarget
from cdktf_cdktf_provider_aws.cloudwatch_log_group import CloudwatchLogGroup
from cdktf_cdktf_provider_aws.ecs_cluster import EcsCluster, EcsClusterSetting
from cdktf_cdktf_provider_aws.ecs_cluster_capacity_providers import (
    EcsClusterCapacityProviders,
    EcsClusterCapacityProvidersDefaultCapacityProviderStrategy,
)
from cdktf_cdktf_provider_aws.ecs_service import (
    EcsService,
    EcsServiceAlarms,
    EcsServiceCapacityProviderStrategy,
    EcsServiceDeploymentCircuitBreaker,
    EcsServiceDeploymentConfiguration,
    EcsServiceDeploymentConfigurationCanaryConfiguration,
    EcsServiceDeploymentController,
    EcsServiceLoadBalancer,
    EcsServiceLoadBalancerAdvancedConfiguration,
    EcsServiceNetworkConfiguration,
    EcsServiceTimeouts,
)
from cdktf_cdktf_provider_aws.ecs_task_definition import EcsTaskDefinition, EcsTaskDefinitionRuntimePlatform
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from cdktf_cdktf_provider_aws.vpc_security_group_egress_rule import VpcSecurityGroupEgressRule
from constructs import Construct

from shared.components.iam import InlinePolicy, service_role
from shared.components.policy import policy_document
from shared.components.scheduled_capacity import CapacityWindow, schedule_windows, track
from shared.naming import Naming

SPOT = "FARGATE_SPOT"
ON_DEMAND = "FARGATE"
CONTAINER_NAME = "api"
# What runs only where an environment file asks for it (image = "placeholder"; P-02, P-03):
# nginx from ECR Public (Docker official images mirror; no Docker Hub pull limit) on the 1.30
# stable branch, which takes its security releases (1.30.1 fixed six CVEs in May 2026, one
# exploited: nginx security advisories as summarized at https://pbxscience.com/?p=20550, read
# 2026-11-29). The tag could not be resolved here (no registry access): check it with
# `docker manifest inspect`. It serves a fixed config. It answers GET/HEAD /health with 200 for the target group, 405 to other methods there
# and 404 to everything else (not 5xx: probes must not page anyone), echoes nothing, and is given
# no credential at all. The method test is an `if` in the rewrite phase: `limit_except` would act
# in the access phase, after `return` has already answered.
PLACEHOLDER_IMAGE = "public.ecr.aws/docker/library/nginx:1.30-alpine"
PLACEHOLDER_NGINX_CONF = """server {
    listen 3000;
    server_tokens off;
    default_type application/json;
    location = /health {
        add_header Cache-Control "no-store" always;
        if ($request_method !~ ^(GET|HEAD)$) {
            return 405 '{"error":"method not allowed"}';
        }
        return 200 '{"status":"ok"}';
    }
    location / {
        add_header Cache-Control "no-store" always;
        return 404 '{"error":"the catalog API image is not deployed yet"}';
    }
}
"""
# The config comes in a plain environment variable: nginx's image has no other way to take
# a server block without building an image of our own.
PLACEHOLDER_COMMAND = [
    "/bin/sh",
    "-c",
    'printf \'%s\' "$PLACEHOLDER_NGINX_CONF" > /etc/nginx/conf.d/default.conf && exec nginx -g "daemon off;"',
]


@dataclass(frozen=True, kw_only=True)
class DatabaseConnection:
    """How the container reaches PostgreSQL (R-05)."""

    host: str
    """Writer endpoint host name: the API's writes and migrations."""
    reader_host: str
    """Reader endpoint host name: the API's catalog reads (DB_READER_HOST), spread over the readers."""
    port: int
    """PostgreSQL port, e.g. 5432."""
    name: str
    """Database name."""
    secret_arn: str
    """Secrets Manager secret with JSON keys username and password (RDS-managed)."""
    security_group_id: str
    """Security group of the database; tasks get egress to it on ``port`` only."""
    ssl_mode: str = "verify-full"
    """libpq sslmode the API uses towards Aurora. Default: verify-full (the image holds RDS's CA bundle, service/Dockerfile)."""


@dataclass(frozen=True, kw_only=True)
class Scaling:
    """Task count bounds and CPU target tracking (R-07)."""

    min_tasks: int = 2
    """Fewest running tasks, one per AZ. Default: 2."""
    max_tasks: int = 10
    """Most running tasks. Default: 10."""
    cpu_target_percent: float = 70.0
    """Average service CPU the policy holds. Default: 70 %."""
    scale_out_cooldown_seconds: int = 60
    """Wait after scaling out. Default: 60 s."""
    scale_in_cooldown_seconds: int = 300
    """Wait after scaling in. Default: 300 s."""
    # service/docs/capacity.md (runs of 2026-11-29, after the service's CPU work): one task carries
    # about 1,800 list calls/s at 70 % CPU, the lower of the two measured calls and of two runs
    # (get by id: about 2,400/s). ALBRequestCountPerTarget is the target group's
    # RequestCountPerTarget, a Sum per minute (ELB user guide, "CloudWatch metrics for your
    # Application Load Balancer"): 1,800 x 60 = 108,000 requests per task per minute. CPU target
    # tracking runs beside it, so a task that does less on Fargate still scales out at 70 % CPU.
    requests_per_task_per_minute: int = 108_000
    """ALBRequestCountPerTarget target: measured list calls/s per task at 70 % CPU, times 60. Default: 108,000."""
    requests_scale_in_cooldown_seconds: int = 900
    """Wait after a request-driven scale-in; longer than CPU's so a sale's tail keeps its tasks. Default: 900 s."""
    restore_min_tasks: int | None = None
    """Fewest tasks a sale's end restores; None: min_tasks (differs while a window is raised). Default: None."""
    restore_max_tasks: int | None = None
    """Most tasks a sale's end restores; None: max_tasks. Default: None."""
    sales: tuple[CapacityWindow, ...] = ()
    """Sale windows: task bounds raised ``sale_lead`` before each starts and restored at its end. Default: none."""
    sale_lead: timedelta = timedelta(minutes=5)
    """How long before a sale its tasks are started (main.py derives it from the start budget). Default: 5 min."""


# AWS's policy for the role ECS uses to move traffic between target groups during a release
# (Amazon ECS developer guide, "Amazon ECS infrastructure IAM role for load balancers", read
# 2026-11-29): AWS keeps it in step with the calls ECS makes, which an inline copy would not.
LOAD_BALANCER_INFRASTRUCTURE_POLICY = "arn:aws:iam::aws:policy/AmazonECSInfrastructureRolePolicyForLoadBalancers"


@dataclass(frozen=True, kw_only=True)
class CanaryRelease:
    """An ECS-native canary release with CloudWatch-alarm rollback (S-03).

    A new task definition starts a full set of new tasks in the target group production
    traffic is not using, sends ``canary_percent`` of production traffic to them for
    ``canary_bake_minutes``, then all of it; the old tasks stay for ``bake_minutes`` more so a
    rollback is a traffic shift, not a redeploy. Any rollback alarm in ALARM during the
    release rolls it back (ECS API reference, CanaryConfiguration, DeploymentConfiguration and
    DeploymentAlarms, read 2026-11-29).
    """

    alternate_target_group_arn: str
    """Target group a release's new tasks register with."""
    production_listener_rule_arn: str
    """Listener rule whose weights carry production traffic (ECS rewrites them)."""
    test_listener_rule_arn: str
    """Listener rule of the test listener, pointed at the new tasks during a release."""
    rollback_alarm_names: Sequence[str]
    """CloudWatch alarms that roll a release back; must name alarms of this stack."""
    canary_percent: float = 10.0
    """Share of production traffic the new version gets first; AWS: 0.1 to 100 in steps of 0.1. Default: 10 %."""
    canary_bake_minutes: int = 3
    """Minutes at the canary share before all traffic moves; AWS: 0 to 1440. Default: 3 min."""
    bake_minutes: int = 2
    """Minutes the old tasks stay after all traffic moved, for an instant rollback; AWS: 0 to 1440. Default: 2 min."""
    apply_timeout_minutes: int = 20
    """How long terraform apply waits for the release to finish or roll back. Default: 20 min."""


@dataclass(frozen=True, kw_only=True)
class FargateServiceProps:
    """Inputs of a ``FargateService``."""

    naming: Naming
    """Naming helper for cluster, service, roles and log group."""
    region: str
    """Region of the awslogs driver, e.g. eu-north-1."""
    subnet_ids: Sequence[str]
    """Private subnets the tasks run in (no public IP)."""
    security_group_id: str
    """Security group of the tasks."""
    target_group_arn: str
    """Target group the service registers its tasks with."""
    request_count_label: str
    """ALBRequestCountPerTarget resource label of that (primary) target group: app/<lb>/<id>/targetgroup/<tg>/<id>."""
    load_balancer_ready: Sequence[ITerraformDependable]
    """The listeners and rules using the target groups; the service is created after them."""
    release: CanaryRelease
    """How a new task definition reaches production: canary with alarm rollback."""
    start_after: Sequence[ITerraformDependable] = ()
    """What must exist before the first task starts, e.g. the admin token's value. Default: nothing."""
    database: DatabaseConnection
    """Connection the container receives as environment and secrets."""
    image: str | None
    """API image in the platform's private ECR (by digest); None runs the credential-less placeholder."""
    repository_arn: str
    """ARN of the platform's ECR repository, the only one the execution role may pull from."""
    admin_token_secret_arn: str
    """Secret holding the bearer token of the API's write endpoints; read by the task role at runtime."""
    container_port: int = 3000
    """Port the API listens on. Default: 3000."""
    environment: Mapping[str, str] = field(default_factory=dict)
    """Extra plain environment variables (never secrets). Default: none."""
    cpu: int = 1024
    """Task CPU units (R-03: exactly 1 vCPU). Default: 1024."""
    memory_mib: int = 2048
    """Task memory (R-03: exactly 2 GB). Default: 2048 MiB."""
    on_demand_base: int = 1
    """Tasks always on on-demand FARGATE, so a Spot reclaim cannot take the service to zero (P-06). Default: 1."""
    log_level: str = "info"
    """LOG_LEVEL given to the API. Default: info."""
    scaling: Scaling = field(default_factory=Scaling)
    """Autoscaling bounds and target. Default: 2-10 tasks at 70 % CPU."""
    health_check_grace_seconds: int = 120
    """Seconds ALB health checks are ignored after a task starts (cold start). Default: 120 s."""
    stop_timeout_seconds: int = 120
    """Seconds between SIGTERM and SIGKILL; Fargate Spot allows at most 120. Default: 120 s."""
    log_retention_days: int = 30
    """Days container logs are kept. Default: 30 days."""
    permissions_boundary: str | None = None
    """ARN of the permissions boundary policy its roles carry; None: none. Default: None."""


class FargateService(Construct):
    """Cluster, task definition, IAM roles, service and autoscaling of the API.

    The capacity provider strategy is always set and ``launch_type`` never (F-4);
    ``desired_count`` is ignored after creation so Terraform does not undo
    autoscaling (R-07).
    """

    def __init__(self, scope: Construct, id: str, *, props: FargateServiceProps) -> None:
        super().__init__(scope, id)
        scaling = props.scaling
        if not 1 <= scaling.min_tasks <= scaling.max_tasks:
            raise ValueError(f"scaling {scaling.min_tasks}-{scaling.max_tasks} is not allowed: need 1 <= min <= max")
        if props.stop_timeout_seconds > 120:
            raise ValueError("stop_timeout_seconds must be at most 120 (Fargate limit, Spot notice)")
        if not 0 <= props.on_demand_base <= scaling.max_tasks:
            raise ValueError(
                f"on_demand_base={props.on_demand_base} is not allowed: 0 to max_tasks ({scaling.max_tasks})"
            )
        release = props.release
        # AWS's limits (ECS API reference, CanaryConfiguration and DeploymentConfiguration).
        if not (0.1 <= release.canary_percent <= 100 and float(round(release.canary_percent * 10, 6)).is_integer()):
            raise ValueError(f"canary_percent={release.canary_percent} is not allowed: 0.1 to 100 in steps of 0.1")
        for name, minutes in (
            ("canary_bake_minutes", release.canary_bake_minutes),
            ("bake_minutes", release.bake_minutes),
        ):
            if not 0 <= minutes <= 1440:
                raise ValueError(f"{name}={minutes} is not allowed: 0 to 1440 minutes")
        if not release.rollback_alarm_names:
            raise ValueError(
                "a canary release needs at least one rollback alarm: without one only the circuit breaker rolls back"
            )
        naming = props.naming
        logs = CloudwatchLogGroup(self, "logs", name=naming.path("ecs"), retention_in_days=props.log_retention_days)

        cluster = EcsCluster(
            self,
            "cluster",
            name=naming.name("cluster"),
            setting=[EcsClusterSetting(name="containerInsights", value="enabled")],
        )
        capacity_providers = EcsClusterCapacityProviders(
            self,
            "capacity-providers",
            cluster_name=cluster.name,
            capacity_providers=[SPOT, ON_DEMAND],
            default_capacity_provider_strategy=[
                EcsClusterCapacityProvidersDefaultCapacityProviderStrategy(capacity_provider=SPOT, weight=1)
            ],
        )

        # Written out instead of AmazonECSTaskExecutionRolePolicy so the role can
        # write only its own log group and read only the DB secret.
        execution_role = service_role(
            self,
            "execution-role",
            name=naming.name("ecs-exec"),
            service="ecs-tasks.amazonaws.com",
            permissions_boundary=props.permissions_boundary,
            policy=InlinePolicy(
                id="execution-policy",
                name="pull-log-read-db-secret",
                statements=[
                    {"Sid": "EcrAuth", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
                    {
                        "Sid": "EcrPull",
                        "Effect": "Allow",
                        "Action": [
                            "ecr:BatchCheckLayerAvailability",
                            "ecr:BatchGetImage",
                            "ecr:GetDownloadUrlForLayer",
                        ],
                        "Resource": props.repository_arn,
                    },
                    {
                        "Sid": "Logs",
                        "Effect": "Allow",
                        "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                        "Resource": f"{logs.arn}:*",
                    },
                    {
                        "Sid": "DbSecret",
                        "Effect": "Allow",
                        "Action": "secretsmanager:GetSecretValue",
                        "Resource": props.database.secret_arn,
                    },
                ],
            ),
        )
        # The API re-reads the DB secret after a rotation (ECS never refreshes an injected secret,
        # P-04) and reads its admin token at start; nothing else. The placeholder gets a role with
        # no permission at all: any container can fetch its task role's credentials (P-02).
        read_own_secrets = InlinePolicy(
            id="task-policy",
            name="read-own-secrets",
            statements=[
                {
                    "Sid": "ReadOwnSecrets",
                    "Effect": "Allow",
                    "Action": "secretsmanager:GetSecretValue",
                    "Resource": [props.database.secret_arn, props.admin_token_secret_arn],
                }
            ],
        )
        task_role = service_role(
            self,
            "task-role",
            name=naming.name("ecs-task"),
            service="ecs-tasks.amazonaws.com",
            permissions_boundary=props.permissions_boundary,
            policy=read_own_secrets if props.image is not None else None,
        )

        database = props.database
        container: dict[str, object] = {
            "name": CONTAINER_NAME,
            "essential": True,
            "portMappings": [{"containerPort": props.container_port, "protocol": "tcp"}],
            "stopTimeout": props.stop_timeout_seconds,
            "logConfiguration": {
                "logDriver": "awslogs",
                "options": {
                    "awslogs-group": logs.name,
                    "awslogs-region": props.region,
                    "awslogs-stream-prefix": "api",
                },
            },
        }
        if props.image is None:
            # No database settings and no secret: an image the project does not own never
            # receives a credential (P-02).
            container |= {
                "image": PLACEHOLDER_IMAGE,
                "command": PLACEHOLDER_COMMAND,
                "environment": [{"name": "PLACEHOLDER_NGINX_CONF", "value": PLACEHOLDER_NGINX_CONF}],
            }
        else:
            # The platform contract of the API (service/contract.json): plain settings as
            # environment, credentials only as ECS secrets.
            environment = {
                "PORT": str(props.container_port),
                "DB_HOST": database.host,
                "DB_READER_HOST": database.reader_host,
                "DB_PORT": str(database.port),
                "DB_NAME": database.name,
                "DB_SECRET_ARN": database.secret_arn,
                "DB_SSLMODE": database.ssl_mode,
                "AWS_REGION": props.region,
                "LOG_LEVEL": props.log_level,
                "ADMIN_TOKEN_SECRET_ARN": props.admin_token_secret_arn,
                **props.environment,
            }
            container |= {
                "image": props.image,
                "environment": [{"name": k, "value": v} for k, v in sorted(environment.items())],
                "secrets": [
                    {"name": "DB_USER", "valueFrom": f"{database.secret_arn}:username::"},
                    {"name": "DB_PASSWORD", "valueFrom": f"{database.secret_arn}:password::"},
                ],
            }
        task = EcsTaskDefinition(
            self,
            "task",
            family=naming.name("api"),
            cpu=str(props.cpu),
            memory=str(props.memory_mib),
            network_mode="awsvpc",
            requires_compatibilities=["FARGATE"],
            # Fargate Spot runs x86_64 only.
            runtime_platform=EcsTaskDefinitionRuntimePlatform(
                operating_system_family="LINUX", cpu_architecture="X86_64"
            ),
            execution_role_arn=execution_role.arn,
            task_role_arn=task_role.arn,
            container_definitions=json.dumps([container]),
        )

        # Tasks need HTTPS out (ECR, Secrets Manager, CloudWatch Logs via NAT/endpoint)
        # and PostgreSQL to the database; nothing else.
        VpcSecurityGroupEgressRule(
            self,
            "https-out",
            security_group_id=props.security_group_id,
            cidr_ipv4="0.0.0.0/0",
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            description="HTTPS to AWS APIs and the image registry",
        )
        VpcSecurityGroupEgressRule(
            self,
            "db-out",
            security_group_id=props.security_group_id,
            referenced_security_group_id=database.security_group_id,
            ip_protocol="tcp",
            from_port=database.port,
            to_port=database.port,
            description="PostgreSQL to the database",
        )

        # The role ECS assumes to change the listener rules' weights and register targets during
        # a release. AWS's examples trust ecs.amazonaws.com with no source condition, and no ECS
        # page documents aws:SourceAccount for this role: a condition ECS does not send would
        # make every release fail, so none is set (the role is usable only by services that
        # name it, which needs iam:PassRole in this account).
        infrastructure_role = IamRole(
            self,
            "release-role",
            name=naming.name("ecs-release"),
            assume_role_policy=policy_document(
                [{"Effect": "Allow", "Principal": {"Service": "ecs.amazonaws.com"}, "Action": "sts:AssumeRole"}]
            ),
            permissions_boundary=props.permissions_boundary,
        )
        IamRolePolicyAttachment(
            self, "release-role-policy", role=infrastructure_role.name, policy_arn=LOAD_BALANCER_INFRASTRUCTURE_POLICY
        )
        strategy = [EcsServiceCapacityProviderStrategy(capacity_provider=SPOT, weight=1)]
        if props.on_demand_base > 0:
            strategy.insert(
                0, EcsServiceCapacityProviderStrategy(capacity_provider=ON_DEMAND, base=props.on_demand_base, weight=0)
            )
        service = EcsService(
            self,
            "service",
            name=naming.name("svc"),
            cluster=cluster.arn,
            task_definition=task.arn,
            desired_count=scaling.min_tasks,
            capacity_provider_strategy=strategy,
            platform_version="LATEST",
            network_configuration=EcsServiceNetworkConfiguration(
                subnets=list(props.subnet_ids), security_groups=[props.security_group_id], assign_public_ip=False
            ),
            load_balancer=[
                EcsServiceLoadBalancer(
                    target_group_arn=props.target_group_arn,
                    container_name=CONTAINER_NAME,
                    container_port=props.container_port,
                    advanced_configuration=EcsServiceLoadBalancerAdvancedConfiguration(
                        alternate_target_group_arn=release.alternate_target_group_arn,
                        production_listener_rule=release.production_listener_rule_arn,
                        test_listener_rule=release.test_listener_rule_arn,
                        role_arn=infrastructure_role.arn,
                    ),
                )
            ],
            health_check_grace_period_seconds=props.health_check_grace_seconds,
            deployment_controller=EcsServiceDeploymentController(type="ECS"),
            # The provider takes the bake times as strings (nullable integers).
            deployment_configuration=EcsServiceDeploymentConfiguration(
                strategy="CANARY",
                bake_time_in_minutes=str(release.bake_minutes),
                canary_configuration=EcsServiceDeploymentConfigurationCanaryConfiguration(
                    canary_percent=release.canary_percent,
                    canary_bake_time_in_minutes=str(release.canary_bake_minutes),
                ),
            ),
            alarms=EcsServiceAlarms(alarm_names=list(release.rollback_alarm_names), enable=True, rollback=True),
            # Catches what the alarms cannot see: new tasks that never start or never pass health
            # checks (a failed migration exits before listening). ECS: "When both methods are
            # used, either can trigger deployment failure" (deployment failure detection guide).
            deployment_circuit_breaker=EcsServiceDeploymentCircuitBreaker(enable=True, rollback=True),
            # apply returns when the release has finished (SUCCESSFUL) and fails when it rolled
            # back, so a deploy's exit status says whether the new version is serving.
            wait_for_steady_state=True,
            timeouts=EcsServiceTimeouts(
                create=f"{release.apply_timeout_minutes}m", update=f"{release.apply_timeout_minutes}m"
            ),
            deployment_minimum_healthy_percent=100,
            deployment_maximum_percent=200,
            propagate_tags="SERVICE",
            enable_ecs_managed_tags=True,
            lifecycle=TerraformResourceLifecycle(ignore_changes=["desired_count"]),
            # The strategy names FARGATE_SPOT and FARGATE, which must be associated with the cluster
            # first; on destroy the association must outlive the service ("The specified capacity
            # provider strategy cannot contain a capacity provider that is not associated with the
            # cluster"; aws/containers-roadmap#631 asks for the same explicit dependency).
            depends_on=[*props.load_balancer_ready, *props.start_after, capacity_providers],
        )

        target = AppautoscalingTarget(
            self,
            "scaling-target",
            service_namespace="ecs",
            scalable_dimension="ecs:service:DesiredCount",
            resource_id=f"service/{cluster.name}/{service.name}",
            min_capacity=scaling.min_tasks,
            max_capacity=scaling.max_tasks,
        )
        track(
            self,
            "cpu-tracking",
            name=naming.name("cpu-tracking"),
            target=target,
            metric="ECSServiceAverageCPUUtilization",
            target_value=scaling.cpu_target_percent,
            scale_in_cooldown=scaling.scale_in_cooldown_seconds,
            scale_out_cooldown=scaling.scale_out_cooldown_seconds,
        )
        # Requests, not only CPU: the API's CPU per request changes with the code, requests are
        # what a sale brings. With several target tracking policies Application Auto Scaling
        # scales out when any policy asks and scales in only when all of them are ready to
        # (Application Auto Scaling user guide, "Target tracking scaling policies", multiple
        # policies, read 2026-11-29). Scale-in stays enabled on both so either one's load
        # holds the tasks; this one waits 15 minutes after a scale-in instead of CPU's 5 so the
        # falling tail of a sale does not shed tasks it needs again a minute later.
        track(
            self,
            "request-tracking",
            name=naming.name("request-tracking"),
            target=target,
            metric="ALBRequestCountPerTarget",
            target_value=scaling.requests_per_task_per_minute,
            scale_in_cooldown=scaling.requests_scale_in_cooldown_seconds,
            scale_out_cooldown=scaling.scale_out_cooldown_seconds,
            resource_label=props.request_count_label,
        )
        schedule_windows(
            self,
            "sale",
            naming=naming,
            kind="tasks",
            target=target,
            windows=scaling.sales,
            lead=scaling.sale_lead,
            restore_min=scaling.restore_min_tasks or scaling.min_tasks,
            restore_max=scaling.restore_max_tasks or scaling.max_tasks,
        )

        self.cluster_name: str = cluster.name
        self.cluster_arn: str = cluster.arn
        self.service_name: str = service.name
        # The provider's id of an ECS service is its ARN.
        self.service_arn: str = service.id
