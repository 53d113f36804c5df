"""The mutants of `make mutation`: single-point edits a tired reviewer would wave through.

Each mutant is one exact text edit of one file under stacks/, shared/ or main.py. The
original snippet must occur exactly once in its file, or scripts/mutation.py refuses to
run: when the code changes, the list is updated with it instead of quietly measuring
nothing. A mutant that the tests and guardrails are not expected to catch carries
``survives`` with a one-line reason (an equivalent mutant, or not observable offline).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class Mutant:
    """One realistic single-point change to the platform code."""

    id: str
    """Short stable name, used on the command line (--only) and in the report."""
    file: str
    """Path relative to the project root."""
    original: str
    """Snippet that must occur exactly once in ``file``."""
    replacement: str
    """What the snippet becomes."""
    what: str
    """The mistake in a reviewer's words and what it would break."""
    survives: str | None = None
    """Why a surviving mutant is accepted (equivalent, or not observable offline); None: it must be killed."""


FARGATE = "shared/components/fargate_service.py"
BALANCER = "shared/components/load_balancer.py"
IMAGE_ASSET = "shared/components/image_asset.py"
AURORA = "shared/components/aurora.py"
MONITORING = "shared/components/monitoring.py"
WAF = "shared/components/web_acl.py"
CDN = "shared/components/distribution.py"
BUCKETS = "shared/components/bucket_controls.py"
LOG_BUCKET = "shared/components/log_bucket.py"
NETWORK = "shared/components/network.py"
FLOW_LOGS = "shared/components/flow_logs.py"
ROTATION = "shared/components/rotation_redeploy.py"
GENERATED = "shared/components/generated_secret.py"
POLICY = "shared/components/policy.py"
SCHEDULE = "shared/components/scheduled_capacity.py"
APP = "stacks/app_stack.py"
EDGE = "stacks/edge_stack.py"
LAYER = "shared/layer.py"
CONFIG = "shared/config.py"
GUARDRAILS = "shared/guardrails.py"
MAIN = "main.py"
IAM_TABLE = "shared/iam_table.py"
IAM_ROWS = "shared/data/iam_actions.toml"
DOMAIN = "shared/components/custom_domain.py"
# The WAF action classes a mutant needs but the module does not import.
_WAF_MODULE = '__import__("cdktf_cdktf_provider_aws.wafv2_web_acl", fromlist=["_"])'

MUTANTS: tuple[Mutant, ...] = (
    # --- container runtime settings only AWS validates ---------------------------------
    Mutant(
        id="awslogs-group-key",
        file=FARGATE,
        original='"awslogs-group": logs.name,',
        replacement='"awslogs-group-name": logs.name,',
        what="awslogs option misspelt: ECS cannot start the container (no log group given)",
    ),
    Mutant(
        id="awslogs-region-literal",
        file=FARGATE,
        original='"awslogs-region": props.region,',
        replacement='"awslogs-region": "us-east-1",',
        what="log region hard-coded: the log group lives in the deployment region, tasks fail to start elsewhere",
    ),
    Mutant(
        id="awslogs-stream-prefix-key",
        file=FARGATE,
        original='"awslogs-stream-prefix": "api",',
        replacement='"awslogs-prefix": "api",',
        what="stream prefix option misspelt: Fargate requires awslogs-stream-prefix",
    ),
    Mutant(
        id="log-driver-name",
        file=FARGATE,
        original='"logDriver": "awslogs",',
        replacement='"logDriver": "awsfirelens",',
        what="firelens driver without a log router container: no container logs",
    ),
    Mutant(
        id="stop-timeout-key",
        file=FARGATE,
        original='"stopTimeout": props.stop_timeout_seconds,',
        replacement='"stopTimeOut": props.stop_timeout_seconds,',
        what="stopTimeout misspelt: ECS ignores it and kills tasks 30 s after SIGTERM, not 120 s",
    ),
    Mutant(
        id="port-env-literal",
        file=FARGATE,
        original='"PORT": str(props.container_port),',
        replacement='"PORT": "8080",',
        what="API told to listen on 8080 while the port mapping, target group and rules say 3000",
    ),
    Mutant(
        id="db-user-secret-key",
        file=FARGATE,
        original='f"{database.secret_arn}:username::"',
        replacement='f"{database.secret_arn}:user::"',
        what="JSON key of the RDS-managed secret misspelt: the task cannot start (ResourceInitializationError)",
    ),
    Mutant(
        id="search-rate-limit-on-raw-query",
        file=WAF,
        original='"text_transformation": [{"priority": 0, "type": "URL_DECODE"}],\n                            }',
        replacement='"text_transformation": [{"priority": 0, "type": "NONE"}],\n                            }',
        what="searches spelled %71= escape the per-IP search limit: the edge and the API still read them as q=",
    ),
    Mutant(
        id="db-sslmode-prefer",
        file=FARGATE,
        original='ssl_mode: str = "verify-full"',
        replacement='ssl_mode: str = "prefer"',
        what="libpq sslmode prefer: the API silently falls back to plaintext to the database",
    ),
    Mutant(
        id="origin-listener-stays-http",
        file=BALANCER,
        original='protocol = "HTTPS" if https else "HTTP"',
        replacement='protocol = "HTTP"',
        what="a certificate but HTTP listeners: CloudFront's https-only origin gets no TLS answer (502 on every request)",
    ),
    Mutant(
        id="origin-listener-old-tls-policy",
        file=BALANCER,
        original='ssl_policy: str = "ELBSecurityPolicy-TLS13-1-2-2021-06"',
        replacement='ssl_policy: str = "ELBSecurityPolicy-2016-08"',
        what="HTTPS listeners that still offer TLS 1.0 and CBC ciphers",
    ),
    Mutant(
        id="origin-https-port-closed",
        file=BALANCER,
        original="listener_port = props.listener_port if props.listener_port is not None else (443 if https else 80)",
        replacement="listener_port = props.listener_port if props.listener_port is not None else 80",
        what="HTTPS on port 80: the VPC origin's https_port 443 reaches nothing",
    ),
    Mutant(
        id="origin-vpc-origin-stays-http",
        file=CDN,
        original='origin_protocol_policy="https-only" if props.origin_https else "http-only",',
        replacement='origin_protocol_policy="http-only",',
        what="the ALB has a certificate but CloudFront keeps sending HTTP to port 80, which no listener serves",
    ),
    Mutant(
        id="origin-domain-is-the-alb-name",
        file=EDGE,
        original="origin_domain_name=props.origin_https_name or props.alb_dns_name,",
        replacement="origin_domain_name=props.alb_dns_name,",
        what="CloudFront checks the certificate against *.elb.amazonaws.com, which it cannot cover: 502 on every request",
    ),
    Mutant(
        id="db-sslmode-require",
        file=FARGATE,
        original='ssl_mode: str = "verify-full"',
        replacement='ssl_mode: str = "require"',
        what="libpq sslmode require: encrypted but unauthenticated, whoever answers for the endpoint gets the password",
    ),
    Mutant(
        id="placeholder-health-echo",
        file=FARGATE,
        original="""return 200 '{"status":"ok"}';""",
        replacement="""return 200 '{"status":"$http_x_status"}';""",
        what="placeholder health answer echoes a request header (P-02)",
    ),
    Mutant(
        id="placeholder-health-post",
        file=FARGATE,
        original="if ($request_method !~ ^(GET|HEAD)$) {",
        replacement="if ($request_method !~ ^(GET|HEAD|POST)$) {",
        what="placeholder health location accepts POST (P-02)",
    ),
    # --- ECS service and autoscaling -----------------------------------------------------
    Mutant(
        id="autoscaling-resource-id-arn",
        file=FARGATE,
        original='resource_id=f"service/{cluster.name}/{service.name}"',
        replacement='resource_id=f"service/{cluster.arn}/{service.name}"',
        what="scalable target id built from the cluster ARN: RegisterScalableTarget fails",
    ),
    Mutant(
        id="autoscaling-resource-id-prefix",
        file=FARGATE,
        original='resource_id=f"service/{cluster.name}/{service.name}"',
        replacement='resource_id=f"{cluster.name}/{service.name}"',
        what="scalable target id without its service/ type: RegisterScalableTarget fails",
    ),
    Mutant(
        id="autoscaling-dimension",
        file=FARGATE,
        original='scalable_dimension="ecs:service:DesiredCount"',
        replacement='scalable_dimension="ecs:service:desiredCount"',
        what="scalable dimension with the wrong case: AWS rejects it",
    ),
    Mutant(
        id="desired-count-one",
        file=FARGATE,
        original="desired_count=scaling.min_tasks,",
        replacement="desired_count=1,",
        what="service created with one task while autoscaling's minimum is two (one AZ until the first scaling)",
    ),
    Mutant(
        id="cooldowns-swapped",
        file=FARGATE,
        original="scale_in_cooldown=scaling.scale_in_cooldown_seconds,",
        replacement="scale_in_cooldown=scaling.scale_out_cooldown_seconds,",
        what="scale-in as eager as scale-out: the service flaps during a spike",
    ),
    Mutant(
        id="min-healthy-percent-50",
        file=FARGATE,
        original="deployment_minimum_healthy_percent=100,",
        replacement="deployment_minimum_healthy_percent=50,",
        what="a rolling deployment may stop half of the minimum tasks first",
    ),
    Mutant(
        id="circuit-breaker-no-rollback",
        file=FARGATE,
        original="EcsServiceDeploymentCircuitBreaker(enable=True, rollback=True)",
        replacement="EcsServiceDeploymentCircuitBreaker(enable=True, rollback=False)",
        what="a failed deployment is stopped but not rolled back (R-03)",
    ),
    Mutant(
        id="assign-public-ip",
        file=FARGATE,
        original="assign_public_ip=False",
        replacement="assign_public_ip=True",
        what="tasks get public IPs (R-03)",
    ),
    Mutant(
        id="ignore-changes-task-definition",
        file=FARGATE,
        original='ignore_changes=["desired_count"]',
        replacement='ignore_changes=["task_definition"]',
        what="Terraform resets desired_count after autoscaling moved it and never rolls out a new image (R-07)",
    ),
    Mutant(
        id="on-demand-weight",
        file=FARGATE,
        original="capacity_provider=ON_DEMAND, base=props.on_demand_base, weight=0",
        replacement="capacity_provider=ON_DEMAND, base=props.on_demand_base, weight=1",
        what="half of the scaled tasks on on-demand FARGATE instead of Spot (R-04 cost)",
    ),
    # --- security group scope --------------------------------------------------------------
    Mutant(
        id="https-egress-all-ports",
        file=FARGATE,
        original="""            from_port=443,
            to_port=443,""",
        replacement="""            from_port=0,
            to_port=65535,""",
        what="task egress to the internet on every port instead of 443",
    ),
    Mutant(
        id="https-egress-all-protocols",
        file=FARGATE,
        original="""            cidr_ipv4="0.0.0.0/0",
            ip_protocol="tcp",""",
        replacement="""            cidr_ipv4="0.0.0.0/0",
            ip_protocol="-1",""",
        what="task egress to the internet on every protocol and port",
    ),
    Mutant(
        id="db-egress-anywhere",
        file=FARGATE,
        original="referenced_security_group_id=database.security_group_id,",
        replacement='cidr_ipv4="0.0.0.0/0",',
        what="PostgreSQL egress to the whole internet instead of the database's security group",
    ),
    Mutant(
        id="db-egress-wrong-group",
        file=MAIN,
        original="security_group_id=data.db_security_group_id,",
        replacement="security_group_id=network.app_security_group_id,",
        what="the tasks' PostgreSQL egress points at their own group: the API cannot reach the database",
    ),
    Mutant(
        id="alb-ingress-all-ports",
        file=BALANCER,
        original="""            prefix_list_id=cloudfront.id,
            ip_protocol="tcp",
            from_port=listener_port,""",
        replacement="""            prefix_list_id=cloudfront.id,
            ip_protocol="tcp",
            from_port=0,""",
        what="ALB admits the CloudFront ranges on every port up to the listener",
    ),
    Mutant(
        id="alb-egress-anywhere",
        file=BALANCER,
        original="""            referenced_security_group_id=props.target_security_group_id,
            ip_protocol="tcp",""",
        replacement="""            cidr_ipv4="0.0.0.0/0",
            ip_protocol="tcp",""",
        what="ALB egress to anywhere instead of the tasks' security group",
    ),
    Mutant(
        id="alb-egress-port",
        file=BALANCER,
        original="""            referenced_security_group_id=props.target_security_group_id,
            ip_protocol="tcp",
            from_port=props.target_port,
            to_port=props.target_port,""",
        replacement="""            referenced_security_group_id=props.target_security_group_id,
            ip_protocol="tcp",
            from_port=props.listener_port,
            to_port=props.listener_port,""",
        what="ALB egress on the listener port (80), not the tasks' port: every target is unhealthy",
    ),
    Mutant(
        id="alb-ingress-anywhere",
        file=BALANCER,
        original="prefix_list_id=cloudfront.id,",
        replacement='cidr_ipv4="0.0.0.0/0",',
        what="ALB open to the internet instead of CloudFront's origin-facing ranges (R-11)",
    ),
    Mutant(
        id="task-ingress-port",
        file=BALANCER,
        original="""            referenced_security_group_id=security_group.id,
            ip_protocol="tcp",
            from_port=props.target_port,""",
        replacement="""            referenced_security_group_id=security_group.id,
            ip_protocol="tcp",
            from_port=0,""",
        what="tasks admit the ALB on every port below 3000 too",
    ),
    Mutant(
        id="db-ingress-vpc-cidr",
        file=AURORA,
        original="referenced_security_group_id=props.client_security_group_id,",
        replacement='cidr_ipv4="10.0.0.0/16",',
        what="PostgreSQL open to the whole VPC instead of the API tasks (R-11)",
    ),
    # --- load balancer -------------------------------------------------------------------
    Mutant(
        id="health-matcher-wide",
        file=BALANCER,
        original='matcher="200",',
        replacement='matcher="200-499",',
        what="a target answering 404 for /health (wrong image, wrong path) counts as healthy",
    ),
    Mutant(
        id="health-timeout-interval",
        file=BALANCER,
        original="timeout_seconds: int = 5",
        replacement="timeout_seconds: int = 30",
        what="health check timeout equal to the interval: AWS refuses the target group",
    ),
    Mutant(
        id="deregistration-delay-literal",
        file=BALANCER,
        original="deregistration_delay=str(props.deregistration_delay_seconds),",
        replacement='deregistration_delay="300",',
        what="connection draining longer than the 2-minute Spot notice (R-06)",
    ),
    Mutant(
        id="app-in-public-subnets",
        file=MAIN,
        original="""            private_subnet_ids=network.private_subnet_ids,
            app_security_group_id=network.app_security_group_id,
            database=DatabaseConnection(""",
        replacement="""            private_subnet_ids=network.public_subnet_ids,
            app_security_group_id=network.app_security_group_id,
            database=DatabaseConnection(""",
        what="the ALB and the tasks placed in the public subnets",
    ),
    Mutant(
        id="reads-sent-to-the-writer",
        file=FARGATE,
        original='"DB_READER_HOST": database.reader_host,',
        replacement='"DB_READER_HOST": database.host,',
        what="the API's reads go to the writer endpoint: the readers autoscaling adds for a sale serve nothing (S-04)",
    ),
    Mutant(
        id="vpc-origin-port",
        file=CDN,
        original="http_port=80,",
        replacement="http_port=8080,",
        what="CloudFront reaches the ALB on 8080 where nothing listens and no rule admits it",
    ),
    Mutant(
        id="alb-internet-facing",
        file=BALANCER,
        original="internal=True,",
        replacement="internal=False,",
        what="internet-facing ALB: viewers bypass CloudFront and the WAF (P-05)",
    ),
    Mutant(
        id="alb-keeps-invalid-headers",
        file=BALANCER,
        original="drop_invalid_header_fields=True,",
        replacement="drop_invalid_header_fields=False,",
        what="ALB forwards malformed header names to the API (request smuggling aid)",
    ),
    Mutant(
        id="alb-log-prefix-mismatch",
        file=APP,
        original="access_logs_prefix=ALB_LOG_PREFIX,",
        replacement='access_logs_prefix="alb-logs",',
        what="ALB writes logs under a prefix the bucket policy does not grant: creating the ALB fails",
    ),
    # --- IAM scope -------------------------------------------------------------------------
    Mutant(
        id="exec-logs-any-group",
        file=FARGATE,
        original='"Resource": f"{logs.arn}:*",',
        replacement='"Resource": "arn:aws:logs:*:*:*",',
        what="execution role may write to every log group in the account",
    ),
    Mutant(
        id="exec-secret-action-wildcard",
        file=FARGATE,
        original="""                        "Action": "secretsmanager:GetSecretValue",
                        "Resource": props.database.secret_arn,""",
        replacement="""                        "Action": "secretsmanager:*",
                        "Resource": props.database.secret_arn,""",
        what="execution role may also rotate, change and delete the DB secret",
    ),
    Mutant(
        id="ecr-pull-any-repository",
        file=FARGATE,
        original='"Resource": props.repository_arn,',
        replacement='"Resource": "*",',
        what="execution role may pull from every repository (P-03)",
    ),
    Mutant(
        id="flow-logs-any-resource",
        file=FLOW_LOGS,
        original='"Resource": [group.arn, f"{group.arn}:*"],',
        replacement='"Resource": "*",',
        what="flow-log role may write to every log group",
    ),
    Mutant(
        id="rotation-ecs-wildcard",
        file=ROTATION,
        original='"Action": "ecs:UpdateService",',
        replacement='"Action": "ecs:*",',
        what="rotation state machine may do anything in ECS",
    ),
    Mutant(
        id="rotation-start-any-machine",
        file=ROTATION,
        original="""                        "Action": "states:StartExecution",
                        "Resource": machine.arn,""",
        replacement="""                        "Action": "states:StartExecution",
                        "Resource": "*",""",
        what="events role may start every state machine",
    ),
    Mutant(
        id="log-writer-any-action",
        file=LOG_BUCKET,
        original='"Action": "s3:PutObject",',
        replacement='"Action": "s3:*",',
        what="ELB log delivery may read and delete the access logs too",
    ),
    Mutant(
        id="trust-without-source-account",
        file=POLICY,
        original="""                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": source_account}},""",
        replacement="""                "Action": "sts:AssumeRole",""",
        what="service roles without the confused-deputy guard",
    ),
    Mutant(
        id="alarm-topic-any-account",
        file=MONITORING,
        original="""                        "Resource": topic.arn,
                        "Condition": {"StringEquals": {"aws:SourceAccount": account_id(self)}},""",
        replacement="""                        "Resource": topic.arn,""",
        what="any account's CloudWatch may publish to the alarm topic",
    ),
    Mutant(
        id="monitoring-role-broad-policy",
        file=AURORA,
        original='policy_arn="arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole",',
        replacement='policy_arn="arn:aws:iam::aws:policy/CloudWatchLogsFullAccess",',
        what="RDS monitoring role gets full CloudWatch Logs access",
    ),
    # --- Aurora ----------------------------------------------------------------------------
    Mutant(
        id="backup-window-overlaps-maintenance",
        file=AURORA,
        original='preferred_backup_window="02:00-03:00",',
        replacement='preferred_backup_window="03:00-04:00",',
        what="backup window overlaps the Sunday maintenance window: AWS refuses the cluster",
    ),
    Mutant(
        id="maintenance-window-overlaps-backup",
        file=AURORA,
        original='preferred_maintenance_window="sun:03:30-sun:04:30",',
        replacement='preferred_maintenance_window="sun:02:30-sun:03:30",',
        what="maintenance window overlaps the daily backup window: AWS refuses the cluster",
    ),
    Mutant(
        id="maintenance-window-format",
        file=AURORA,
        original='preferred_maintenance_window="sun:03:30-sun:04:30",',
        replacement='preferred_maintenance_window="sun:03:30-04:30",',
        what="maintenance window without the day on its end: not ddd:hh24:mi-ddd:hh24:mi",
    ),
    Mutant(
        id="backup-window-too-short",
        file=AURORA,
        original='preferred_backup_window="02:00-03:00",',
        replacement='preferred_backup_window="02:00-02:15",',
        what="backup window shorter than the 30 minutes AWS requires",
    ),
    Mutant(
        id="engine-version-any-major",
        file=AURORA,
        original='parameter_group_family=f"aurora-postgresql{props.engine_major}",',
        replacement="version=props.engine_major,",
        what="the lookup matches on a version prefix instead of the major's parameter group family (R-08)",
    ),
    Mutant(
        id="engine-ignore-changes-wrong-attribute",
        file=AURORA,
        original='ignore_changes=["engine_version"],',
        replacement='ignore_changes=["engine_version_actual"],',
        what="ignores the computed attribute: the plan after an AWS minor upgrade tries a downgrade (P-01)",
    ),
    Mutant(
        id="engine-lookup-not-the-default-minor",
        file=AURORA,
        original="default_only=True,",
        replacement="default_only=False,",
        what="the lookup takes the newest-created 16.x, which can be a Limitless-only build (P-01)",
    ),
    Mutant(
        id="placeholder-task-role-reads-secrets",
        file=FARGATE,
        original="policy=read_own_secrets if props.image is not None else None,",
        replacement="policy=read_own_secrets,",
        what="the placeholder's task role may read the DB secret through the credentials endpoint (P-02)",
    ),
    Mutant(
        id="service-not-waiting-for-capacity-providers",
        file=FARGATE,
        original="depends_on=[*props.load_balancer_ready, *props.start_after, capacity_providers],",
        replacement="depends_on=[*props.load_balancer_ready, *props.start_after],",
        what="CreateService can run before FARGATE_SPOT is associated with the cluster (R-04)",
    ),
    Mutant(
        id="waf-logs-keep-authorization",
        file=WAF,
        original='for header in ("authorization", "cookie")',
        replacement='for header in ("cookie",)',
        what="the admin bearer token is written to the WAF logs",
    ),
    Mutant(
        id="vpc-origin-default-timeouts",
        file=CDN,
        original='timeouts=CloudfrontVpcOriginTimeouts(create="30m", update="30m", delete="30m"),',
        replacement='timeouts=CloudfrontVpcOriginTimeouts(create="15m", update="15m", delete="15m"),',
        what="a VPC origin that takes its documented 15 minutes times out and is left tainted (P-05)",
    ),
    Mutant(
        id="skip-final-snapshot-always",
        file=AURORA,
        original="skip_final_snapshot=not props.final_snapshot,",
        replacement="skip_final_snapshot=True,",
        what="a protected environment loses its final snapshot on destroy (P-07)",
    ),
    Mutant(
        id="deletion-protection-default-on",
        file=CONFIG,
        original="deletion_protection: bool = False\n",
        replacement="deletion_protection: bool = True\n",
        what="development environments cannot be destroyed (R-16)",
    ),
    # --- alarms ----------------------------------------------------------------------------
    Mutant(
        id="alarm-missing-data-default",
        file=MONITORING,
        original='treat_missing_data: str = "notBreaching"',
        replacement='treat_missing_data: str = "missing"',
        what="error-count alarms stay in INSUFFICIENT_DATA when there are no errors and never go OK",
    ),
    Mutant(
        id="running-tasks-missing-data",
        file=MONITORING,
        original='period_seconds=60, evaluation_periods=5, treat_missing_data="breaching"),',
        replacement='period_seconds=60, evaluation_periods=5, treat_missing_data="notBreaching"),',
        what="no RunningTaskCount data (service gone) no longer pages anyone",
    ),
    # --- WAF -------------------------------------------------------------------------------
    Mutant(
        id="waf-default-block",
        file=WAF,
        original="default_action=Wafv2WebAclDefaultAction(allow=Wafv2WebAclDefaultActionAllow()),",
        replacement=f"default_action=Wafv2WebAclDefaultAction(block={_WAF_MODULE}.Wafv2WebAclDefaultActionBlock()),",
        what="the web ACL blocks every request no rule allows: the API is unreachable",
    ),
    Mutant(
        id="waf-managed-groups-count",
        file=WAF,
        original="override_action=Wafv2WebAclRuleOverrideAction(none=Wafv2WebAclRuleOverrideActionNone()),",
        replacement=f"override_action=Wafv2WebAclRuleOverrideAction(count={_WAF_MODULE}.Wafv2WebAclRuleOverrideActionCount()),",
        what="managed rule groups only count: the WAF blocks nothing but the rate limit",
    ),
    Mutant(
        id="waf-extra-count-rule",
        file=WAF,
        original='"AWSManagedRulesCommonRuleSet": ("SizeRestrictions_BODY",),',
        replacement='"AWSManagedRulesCommonRuleSet": ("SizeRestrictions_BODY", "GenericRFI_BODY"),',
        what="remote file inclusion in bodies only counted, never blocked",
    ),
    Mutant(
        id="waf-oversize-continue",
        file=WAF,
        original='"field_to_match": {"body": {"oversize_handling": "MATCH"}},',
        replacement='"field_to_match": {"body": {"oversize_handling": "CONTINUE"}},',
        what="bodies beyond what WAF inspects pass half-inspected (P-09)",
    ),
    # --- CloudFront ------------------------------------------------------------------------
    Mutant(
        id="default-behavior-cached",
        file=CDN,
        original="""                cache_policy_id=props.cache_policy_id,""",
        replacement="""                cache_policy_id=props.cached_paths_policy_id,""",
        what="every path cached by the origin's headers, /health and writes included",
    ),
    Mutant(
        id="cached-paths-not-cached",
        file=CDN,
        original="cache_policy_id=props.cached_paths_policy_id,",
        replacement="cache_policy_id=props.cache_policy_id,",
        what="catalog reads never cached: a seasonal spike goes straight to the tasks",
    ),
    Mutant(
        id="cached-paths-headers-dropped",
        file=CDN,
        original="""                    response_headers_policy_id=headers.id,
                    function_association=guard,
                )
                for pattern in props.cached_paths""",
        replacement="""                    function_association=guard,
                )
                for pattern in props.cached_paths""",
        what="catalog reads served without HSTS, nosniff and frame deny",
    ),
    Mutant(
        id="vpc-origin-updated-in-place",
        file=CDN,
        original="""                create_before_destroy=True,
                replace_triggered_by=[""",
        replacement="""                create_before_destroy=True,
                replace_triggered_by=[] and [""",
        what="a new ALB updates the VPC origin in place, which AWS refuses while it is in use (P-05)",
    ),
    Mutant(
        id="internal-paths-public",
        file=CDN,
        original='internal_paths: Sequence[str] = ("/ready", "/ready/*", "/openapi.json")',
        replacement='internal_paths: Sequence[str] = ("/ready/*",)',
        what="/ready and /openapi.json answered to anyone through CloudFront",
    ),
    Mutant(
        id="catalog-read-keeps-cookies",
        file=CDN,
        original="""  request.cookies = {};
""",
        replacement="",
        what="catalog reads keep their cookies: every tracking cookie splits the cache key (S-05)",
    ),
    Mutant(
        id="catalog-query-in-arrival-order",
        file=CDN,
        original="""  for (var i = 0; i < names.length; i++) {
    if (Object.prototype.hasOwnProperty.call(values, names[i])) {
      pairs.push(names[i] + '=' + values[names[i]]);
    }
  }""",
        replacement="""  for (var n in values) {
    pairs.push(n + '=' + values[n]);
  }""",
        what="the query keeps the viewer's order: a reordered query is another cache key and a miss (S-05)",
    ),
    Mutant(
        id="catalog-unknown-parameter-dropped",
        file=CDN,
        original="""      unknown++;""",
        replacement="""      continue;""",
        what="a misspelled filter is dropped: `categroy=shoes` becomes a cached, unfiltered 200 (S-05)",
    ),
    Mutant(
        id="origin-shield-setting-lost",
        file=EDGE,
        original="""                origin_shield_region=props.origin_shield_region,
""",
        replacement="",
        what="origin_shield_region never reaches the distribution: the environment file says on, the origin has none",
    ),
    Mutant(
        id="outage-503-cached",
        file=CDN,
        original="CloudfrontDistributionCustomErrorResponse(error_code=code, error_caching_min_ttl=0)",
        replacement="CloudfrontDistributionCustomErrorResponse(error_code=code, error_caching_min_ttl=10)",
        what="a 503 during a database outage served from the edge for 10 s after it ended",
    ),
    # --- S3 --------------------------------------------------------------------------------
    Mutant(
        id="tls-only-bucket-not-objects",
        file=BUCKETS,
        original='"Resource": [bucket_arn, f"{bucket_arn}/*"],',
        replacement='"Resource": bucket_arn,',
        what="the TLS-only deny covers the bucket but not its objects",
    ),
    Mutant(
        id="tls-only-condition-inverted",
        file=BUCKETS,
        original='"Condition": {"Bool": {"aws:SecureTransport": "false"}},',
        replacement='"Condition": {"Bool": {"aws:SecureTransport": "true"}},',
        what="the bucket policy denies TLS requests and admits plain HTTP",
    ),
    Mutant(
        id="public-acls-not-ignored",
        file=BUCKETS,
        original="ignore_public_acls=True,",
        replacement="ignore_public_acls=False,",
        what="public ACLs on log objects honoured (R-13)",
    ),
    Mutant(
        id="cdn-log-expiration",
        file=EDGE,
        original="log_expiration_days: int = 30",
        replacement="log_expiration_days: int = 90",
        what="CloudFront logs kept 90 days (R-13)",
    ),
    Mutant(
        id="alb-bucket-acls-enabled",
        file=LOG_BUCKET,
        original='object_ownership: str = "BucketOwnerEnforced"',
        replacement='object_ownership: str = "BucketOwnerPreferred"',
        what="ACLs enabled on the ALB log bucket, which does not need them",
    ),
    # --- network ---------------------------------------------------------------------------
    Mutant(
        id="flow-logs-reject-only",
        file=FLOW_LOGS,
        original='traffic_type: str = "ALL"',
        replacement='traffic_type: str = "REJECT"',
        what="accepted traffic not logged (R-12)",
    ),
    # --- rotation redeploy ------------------------------------------------------------------
    Mutant(
        id="rotation-label-pending",
        file=ROTATION,
        original='"detail": {"labelUpdated": ["AWSCURRENT"]},',
        replacement='"detail": {"labelUpdated": ["AWSPENDING"]},',
        what="tasks replaced before the new password is current (P-04)",
    ),
    Mutant(
        id="rotation-any-secret",
        file=ROTATION,
        original='"resources": [props.secret_arn],',
        replacement='"resources": [{"prefix": "arn:aws:secretsmanager:"}],',
        what="any secret's rotation redeploys the API",
    ),
    Mutant(
        id="rotation-start-failure-unwatched",
        file=ROTATION,
        original='dimensions={"RuleName": rule.name},',
        replacement='dimensions={"RuleName": rule.arn},',
        what="the FailedInvocations alarm watches a metric that never exists: a redeploy that cannot start stays silent",
    ),
    Mutant(
        id="aurora-plain-connections",
        file=AURORA,
        original='RdsClusterParameterGroupParameter(name="rds.force_ssl", value="1", apply_method="pending-reboot"),',
        replacement='RdsClusterParameterGroupParameter(name="rds.force_ssl", value="0", apply_method="pending-reboot"),',
        what="Aurora accepts connections without TLS",
    ),
    Mutant(
        id="orderable-check-other-class",
        file=AURORA,
        original="preferred_instance_classes=[props.instance_class],",
        replacement='preferred_instance_classes=["db.r6g.large"],',
        what="the plan checks a class other than the one the instances use",
    ),
    # --- secrets, repository ----------------------------------------------------------------
    Mutant(
        id="admin-token-regenerated-every-apply",
        file=GENERATED,
        original='triggers={"secret": secret.arn, "version": str(props.value_version)},',
        replacement='triggers={"secret": secret.arn, "version": "${timestamp()}"},',
        what="every deploy writes a new admin token: running tasks and clients keep the old one",
    ),
    Mutant(
        id="tasks-start-before-the-token-has-a-value",
        file=APP,
        original="                start_after=[admin_token.ready],\n",
        replacement="",
        what="the first tasks read an admin token secret that has no value yet and fail to start",
    ),
    Mutant(
        id="admin-token-short",
        file=GENERATED,
        original="length: int = 48",
        replacement="length: int = 12",
        what="a 12-character bearer token",
    ),
    Mutant(
        id="admin-token-recovery-window",
        file=APP,
        original="recovery_window_days=7 if props.deletion_protection else 0,",
        replacement="recovery_window_days=7 if props.deletion_protection else 30,",
        what="a destroyed dev environment cannot be recreated for 30 days (F-6)",
    ),
    # --- tags, names, state ----------------------------------------------------------------
    Mutant(
        id="layer-tag-dropped",
        file=LAYER,
        original='tags={**context.tags, "Layer": layer}',
        replacement="tags={**context.tags}",
        what="resources no longer say which layer owns them",
    ),
    Mutant(
        id="rule-name-without-suffix",
        file=ROTATION,
        original='name=naming.name("db-secret-rotated"),',
        replacement='name="catalog-api-db-secret-rotated",',
        what="an event rule name without the environment suffix collides between environments (R-15)",
    ),
    Mutant(
        id="local-state-absolute",
        file=LAYER,
        original='PROJECT_ROOT_FROM_STACK = "../../.."',
        replacement='PROJECT_ROOT_FROM_STACK = "/var/lib/terraform"',
        what="absolute local state path (R-18)",
    ),
    Mutant(
        id="backend-not-encrypted",
        file=LAYER,
        original="encrypt=True,",
        replacement="encrypt=False,",
        what="remote state unencrypted (R-18)",
    ),
    Mutant(
        id="on-demand-base-default",
        file=CONFIG,
        original="on_demand_base: int = 1\n",
        replacement="on_demand_base: int = 0\n",
        what="a Spot reclaim can take the default environment to zero tasks (P-06)",
    ),
    Mutant(
        id="container-log-retention",
        file=APP,
        original="log_retention_days: int = 30\n",
        replacement="log_retention_days: int = 0\n",
        what="container logs kept forever (retention 0 = never expire)",
    ),
    # --- shipping the API: built from source, released as a canary (S-01, S-02, S-03) -------------
    Mutant(
        id="release-alarms-do-not-roll-back",
        file=FARGATE,
        original="alarms=EcsServiceAlarms(alarm_names=list(release.rollback_alarm_names), enable=True, rollback=True),",
        replacement="alarms=EcsServiceAlarms(alarm_names=list(release.rollback_alarm_names), enable=True, rollback=False),",
        what="a release whose 5xx rate alarms keeps shifting traffic to the broken version",
    ),
    Mutant(
        id="apply-does-not-wait-for-the-release",
        file=FARGATE,
        original="wait_for_steady_state=True,",
        replacement="wait_for_steady_state=False,",
        what="make deploy reports success while the canary is still running or rolling back",
    ),
    Mutant(
        id="canary-bake-of-half-an-hour",
        file=APP,
        original="canary_bake_minutes: int = 3\n",
        replacement="canary_bake_minutes: int = 30\n",
        what="every app deploy waits over half an hour (R-20: well under 15 minutes)",
    ),
    Mutant(
        id="release-starts-in-the-production-target-group",
        file=APP,
        original="alternate_target_group_arn=balancer.alternate_target_group_arn,",
        replacement="alternate_target_group_arn=balancer.target_group_arn,",
        what="ECS has no second target group: the release fails at CreateService/UpdateService",
    ),
    Mutant(
        id="edge-guard-matches-the-raw-path",
        file=CDN,
        original="    path = decodeURIComponent(request.uri);",
        replacement="    path = request.uri;",
        what="/re%61dy reaches /ready at the origin: the database check is open to the internet",
    ),
    Mutant(
        id="p99-rollback-without-a-request-floor",
        file=MONITORING,
        original='f"IF(requests >= {floor}, measured, 0)", "p99 seconds"',
        replacement='"measured", "p99 seconds"',
        what="one slow request at night (anyone can send an expensive search) rolls a release back",
    ),
    Mutant(
        id="release-alarms-watch-one-target-group",
        file=APP,
        original='target_groups={"a": balancer.target_group_arn_suffix, "b": balancer.alternate_target_group_arn_suffix},',
        replacement='target_groups={"a": balancer.target_group_arn_suffix},',
        what="every second release runs in the unwatched target group and is never rolled back",
    ),
    Mutant(
        id="terraform-undoes-the-release-weights",
        file=BALANCER,
        original='lifecycle=TerraformResourceLifecycle(ignore_changes=["action"]),',
        replacement="",
        what="the next apply resets the listener weights ECS set, sending traffic to the empty target group",
    ),
    Mutant(
        id="production-traffic-to-the-alternate-group",
        file=BALANCER,
        original='production_rule = self._weighted_rule("production-rule", listener.arn, primary.arn, alternate.arn, weight=100)',
        replacement='production_rule = self._weighted_rule("production-rule", listener.arn, primary.arn, alternate.arn, weight=0)',
        what="the first deploy sends every request to the target group with no tasks (503)",
    ),
    Mutant(
        id="image-run-by-tag",
        file=IMAGE_ASSET,
        original='self.image: str = f"{props.repository_url}@{image.image_digest}"',
        replacement='self.image: str = f"{props.repository_url}:{source.as_string}"',
        what="the task definition names a tag instead of the digest that was pushed",
    ),
    Mutant(
        id="digest-read-before-the-push",
        file=IMAGE_ASSET,
        original="            depends_on=[publish],\n",
        replacement="",
        what="the plan reads a tag not pushed yet: a first deploy and every changed service/ fail at plan",
    ),
    Mutant(
        id="new-content-never-rebuilt",
        file=IMAGE_ASSET,
        original='triggers={"tag": source.as_string, "repository": props.repository_url},',
        replacement='triggers={"repository": props.repository_url},',
        what="a change under service/ never runs the build: the digest lookup fails on the new tag",
    ),
    Mutant(
        id="build-context-ignores-dockerignore",
        file="shared/image_source.py",
        original="        if not is_excluded(relative, patterns):\n",
        replacement="        if True:\n",
        what="a change to a test or a doc under service/ rebuilds and re-releases the image",
    ),
    Mutant(
        id="placeholder-drops-the-database-host-output",
        file=LAYER,
        original="    if dataclasses.is_dataclass(value) and not isinstance(value, type):",
        replacement="    if dataclasses.is_dataclass(value) and not isinstance(value, type) and not path:",
        what="nested props (the database connection) left out of the inputs: with the placeholder the data layer stops exporting the DB host; a later image deploy fails at plan",
    ),
    Mutant(
        id="config-accepts-another-repository",
        file="shared/config.py",
        original="if ecr is None or ecr.group(2) != region or path != repository:",
        replacement="if ecr is None or ecr.group(2) != region:",
        what="an image in a repository the execution role cannot pull from ends in CannotPullContainerError",
    ),
    Mutant(
        id="publish-builds-a-changed-context",
        file="scripts/publish_image.py",
        original="    if current != tag:\n",
        replacement="    if False:\n",
        what="service/ edited after the synth is pushed under a tag that names other content",
    ),
    Mutant(
        id="image-change-redeploys-the-edge",
        file="scripts/delivery.py",
        original='SOURCE_LOCALS = ("image_source",)',
        replacement="SOURCE_LOCALS: tuple[str, ...] = ()",
        what="make changed lists the edge layer for every change under service/",
    ),
    Mutant(
        id="guardrail-ignores-missing-rollback-alarms",
        file=GUARDRAILS,
        original="if name not in alarm_names and _referenced(",
        replacement="if False and _referenced(",
        what="a rollback alarm name with a typo passes the S-03 guardrail; ECS watches an alarm that never fires",
    ),
    # --- guardrails themselves ---------------------------------------------------------------
    Mutant(
        id="guardrail-alb-name-33",
        file=GUARDRAILS,
        original='32, r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"',
        replacement='33, r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"',
        what="ALB names of 33 characters pass the F-8 guardrail",
    ),
    Mutant(
        id="guardrail-final-snapshot-unset",
        file=GUARDRAILS,
        original='if body.get("skip_final_snapshot") is not True and not body.get("final_snapshot_identifier")',
        replacement='if body.get("skip_final_snapshot") is False and not body.get("final_snapshot_identifier")',
        what="a cluster that leaves skip_final_snapshot unset (the provider's false) passes the P-07 guardrail",
    ),
    # --- the CI roles' table and the workload boundary (S-06) ----------------------------------
    Mutant(
        id="plan-role-gets-sensitive-reads",
        file=IAM_TABLE,
        original="return grant.read + (grant.write if grant.lock else ())",
        replacement="return grant.read + grant.sensitive + (grant.write if grant.lock else ())",
        what="the pull-request plan role may read secret values (GetSecretValue)",
    ),
    Mutant(
        id="no-get-random-password",
        file=IAM_ROWS,
        original='write = ["secretsmanager:GetRandomPassword"]',
        replacement='write = ["secretsmanager:DescribeSecret"]',
        what="every CI deploy of the app layer fails with AccessDenied on GetRandomPassword",
    ),
    Mutant(
        id="create-role-without-boundary",
        file=IAM_ROWS,
        original='write = ["iam:CreateRole", "iam:PutRolePermissionsBoundary"]\nresources = ["{roles}"]\ncondition',
        replacement='write = ["iam:CreateRole", "iam:PutRolePermissionsBoundary"]\nresources = ["{roles}"]\n# condition',
        what="the deploy role may create a role without the workload boundary and hand it anything",
    ),
    Mutant(
        id="flow-logs-role-without-boundary",
        file=FLOW_LOGS,
        original="permissions_boundary=props.permissions_boundary,",
        replacement="permissions_boundary=None,",
        what="the flow-log role is created without the boundary: CI's CreateRole is refused",
    ),
    # --- sale windows, request tracking, reader autoscaling (S-04) ----------------------
    Mutant(
        id="sale-raise-without-lead",
        file=SCHEDULE,
        original='("raise", window.starts - lead,',
        replacement='("raise", window.starts,',
        what="capacity raised at the sale's start: tasks and readers are still starting when the traffic arrives",
    ),
    Mutant(
        id="sale-timezone-local",
        file=SCHEDULE,
        original='timezone="UTC",',
        replacement='timezone="Europe/Stockholm",',
        what="the UTC times of [[sale]] read as local time: capacity raised an hour late",
    ),
    Mutant(
        id="sale-at-with-zone",
        file=SCHEDULE,
        original="%Y-%m-%dT%H:%M:%S')})",
        replacement="%Y-%m-%dT%H:%M:%SZ')})",
        what="at() with a zone suffix outside AWS's at(yyyy-mm-ddThh:mm:ss) format: PutScheduledAction refused",
    ),
    Mutant(
        id="sale-restore-keeps-floor",
        file=SCHEDULE,
        original='("restore", window.ends, restore_min, restore_max)',
        replacement='("restore", window.ends, window.min_capacity, restore_max)',
        what="the sale's floor is never lowered: sale-sized capacity is paid for after the sale",
    ),
    Mutant(
        id="sale-overlap-ignores-reader-lead",
        file=CONFIG,
        original="if later.starts - READER_LEAD < earlier.ends:",
        replacement="if later.starts < earlier.ends:",
        what="a sale starting just after another: its readers are raised, then the earlier restore lowers them",
    ),
    Mutant(
        id="sale-ending-now-accepted",
        file=CONFIG,
        original="if sale.ends <= now:",
        replacement="if sale.ends < now:",
        what="a window that has just ended is accepted: its actions are scheduled in the past",
    ),
    Mutant(
        id="sale-readers-over-ceiling",
        file=CONFIG,
        original='if not 1 <= counts["min_readers"] <= max_readers:',
        replacement='if not 1 <= counts["min_readers"] <= MAX_READERS_LIMIT:',
        what="a sale floor above max_readers: PutScheduledAction sets min above max and AWS refuses the deploy",
    ),
    Mutant(
        id="task-lead-without-health-checks",
        file=MAIN,
        original='seconds = int(contract["start_within_seconds"]) + check.healthy_threshold * check.interval_seconds',
        replacement='seconds = int(contract["start_within_seconds"])',
        what="the tasks' lead time ignores the ALB health checks: tasks not yet in service when the sale starts",
    ),
    Mutant(
        id="request-label-alternate-target-group",
        file=APP,
        original='request_count_label=f"{balancer.arn_suffix}/{balancer.target_group_arn_suffix}"',
        replacement='request_count_label=f"{balancer.arn_suffix}/{balancer.alternate_target_group_arn_suffix}"',
        what="requests counted on the release target group, idle between releases: the policy never scales out",
    ),
    Mutant(
        id="request-target-per-second",
        file=FARGATE,
        original="requests_per_task_per_minute: int = 108_000",
        replacement="requests_per_task_per_minute: int = 1_800",
        what="the per-second capacity used as a per-minute target: tasks scale out 60 times too early",
    ),
    Mutant(
        id="reader-target-without-cluster-prefix",
        file=AURORA,
        original='resource_id=f"cluster:{cluster.cluster_identifier}",',
        replacement="resource_id=cluster.cluster_identifier,",
        what="Aurora's scalable target id lacks cluster: RegisterScalableTarget refuses it",
    ),
    Mutant(
        id="reader-floor-zero",
        file=MAIN,
        original="min_readers=reader_sale.min_readers if reader_sale else 1,",
        replacement="min_readers=reader_sale.min_readers if reader_sale else 0,",
        what="reader floor 0: nothing guarantees a reader for the reader endpoint",
    ),
    Mutant(
        id="deploy-in-sale-drops-the-floor",
        file=MAIN,
        original="min_tasks=task_sale.min_tasks if task_sale else config.min_tasks,",
        replacement="min_tasks=config.min_tasks,",
        what="a deploy during a sale puts the task floor back to [scaling]'s until the window ends",
    ),
    Mutant(
        id="added-readers-keep-nothing",
        file=AURORA,
        original='"KEEP": ",".join(f"{identifier}-{index + 1}" for index in range(props.instance_count)),',
        replacement='"KEEP": identifier,',
        what="the destroy step also deletes Terraform's own instances, which Terraform then fails to delete",
    ),
    Mutant(
        id="added-readers-on-create",
        file=AURORA,
        original="on_destroy=True,",
        replacement="on_destroy=False,",
        what="autoscaled readers never deleted on destroy: DeleteDBCluster refused, make destroy fails",
    ),
    Mutant(
        id="policy-packing-over-quota",
        file=IAM_TABLE,
        original="_MARGIN = 200\n",
        replacement="_MARGIN = -2000\n",
        what="a CI role policy over IAM's 6,144-character limit: make bootstrap fails",
    ),
    # --- the API at its own name (S-07) ---------------------------------------------------
    Mutant(
        id="certificate-in-the-deploy-region",
        file=DOMAIN,
        original="            provider=props.provider,\n            domain_name=props.domain_name,",
        replacement="            domain_name=props.domain_name,",
        what="the certificate is requested in eu-north-1: CloudFront refuses it, the edge apply fails",
    ),
    Mutant(
        id="certificate-validated-by-email",
        file=DOMAIN,
        original='validation_method="DNS",',
        replacement='validation_method="EMAIL",',
        what="ACM mails the domain's admin addresses and the apply waits for a click nobody makes",
    ),
    Mutant(
        id="distribution-uses-the-unvalidated-certificate",
        file=DOMAIN,
        original="self.certificate_arn: str = validation.certificate_arn",
        replacement="self.certificate_arn: str = certificate.arn",
        what="the distribution is updated before ACM issues the certificate: UpdateDistribution fails",
    ),
    Mutant(
        id="viewer-tls-policy-tls1",
        file=CDN,
        original='minimum_protocol_version: str = "TLSv1.2_2021"',
        replacement='minimum_protocol_version: str = "TLSv1"',
        what="viewers at the custom name may negotiate TLS 1.0 with CBC ciphers",
    ),
    Mutant(
        id="viewer-certificate-dedicated-ip",
        file=CDN,
        original='ssl_support_method="sni-only",',
        replacement='ssl_support_method="vip",',
        what="a dedicated-IP certificate: a monthly fee for clients that all send SNI",
    ),
    Mutant(
        id="no-aaaa-alias",
        file=DOMAIN,
        original='record_types: tuple[str, ...] = ("A", "AAAA")',
        replacement='record_types: tuple[str, ...] = ("A",)',
        what="IPv6 viewers of an IPv6-enabled distribution find no address for the custom name",
    ),
    Mutant(
        id="zone-name-not-checked",
        file=DOMAIN,
        original="                lifecycle=TerraformResourceLifecycle(\n                    postcondition=[",
        replacement="                lifecycle=None and TerraformResourceLifecycle(\n                    postcondition=[",
        what="a zone id of another zone is used: records land in the wrong zone, validation never ends",
    ),
    Mutant(
        id="name-outside-the-zone-accepted",
        file=CONFIG,
        original='if zone_name is not None and name != zone_name and not name.endswith(f".{zone_name}"):',
        replacement="if zone_name is not None and name != zone_name and not name.endswith(zone_name):",
        what="api.notshop.example is accepted in the zone shop.example: Route 53 refuses the records",
    ),
    Mutant(
        id="uppercase-host-name-accepted",
        file=CONFIG,
        original='    raw = str(setting.value)\n    labels = raw.split(".")',
        replacement='    raw = str(setting.value).lower()\n    labels = raw.split(".")',
        what="Api.shop.example is accepted and silently changed: the file and the alias disagree",
    ),
)
