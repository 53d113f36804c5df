"""Alarms, the alarm topic and the request-path dashboard.

Each layer creates the alarms of the resources it owns, all publishing to the one
topic of the network layer (the layer every other one already reads).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.cloudwatch_dashboard import CloudwatchDashboard
from cdktf_cdktf_provider_aws.cloudwatch_metric_alarm import (
    CloudwatchMetricAlarm,
    CloudwatchMetricAlarmMetricQuery,
    CloudwatchMetricAlarmMetricQueryMetric,
)
from cdktf_cdktf_provider_aws.sns_topic import SnsTopic
from cdktf_cdktf_provider_aws.sns_topic_policy import SnsTopicPolicy
from cdktf_cdktf_provider_aws.sns_topic_subscription import SnsTopicSubscription
from constructs import Construct

from shared.components.iam import account_id
from shared.components.policy import policy_document
from shared.naming import Naming


@dataclass(frozen=True, kw_only=True)
class AlarmSpec:
    """One CloudWatch metric alarm."""

    key: str
    """Short id, also the alarm name's kind, e.g. alb-5xx."""
    description: str
    """What the alarm means, shown in the notification."""
    namespace: str
    """Metric namespace, e.g. AWS/ApplicationELB."""
    metric: str
    """Metric name, e.g. HTTPCode_ELB_5XX_Count."""
    dimensions: Mapping[str, str]
    """Metric dimensions."""
    threshold: float
    """Value compared with the statistic."""
    comparison: str = "GreaterThanOrEqualToThreshold"
    """CloudWatch comparison operator. Default: GreaterThanOrEqualToThreshold."""
    statistic: str = "Average"
    """Statistic; ignored when extended_statistic is set. Default: Average."""
    extended_statistic: str | None = None
    """Percentile such as p99, used instead of statistic. Default: None."""
    period_seconds: int = 300
    """Length of one evaluation period. Default: 300 s."""
    evaluation_periods: int = 2
    """Periods that must breach in a row. Default: 2."""
    treat_missing_data: str = "notBreaching"
    """What missing data means (no traffic is not an incident). Default: notBreaching."""


class AlarmTopic(Construct):
    """SNS topic receiving every alarm, with an optional e-mail subscription."""

    def __init__(self, scope: Construct, id: str, *, naming: Naming, email: str | None) -> None:
        super().__init__(scope, id)
        # No KMS key: the AWS-managed SNS key does not let CloudWatch publish, and the
        # notifications carry alarm names and metrics only.
        topic = SnsTopic(self, "topic", name=naming.name("alarms"))
        SnsTopicPolicy(
            self,
            "policy",
            arn=topic.arn,
            policy=policy_document(
                [
                    {
                        "Sid": "CloudWatchAlarms",
                        "Effect": "Allow",
                        "Principal": {"Service": "cloudwatch.amazonaws.com"},
                        "Action": "sns:Publish",
                        "Resource": topic.arn,
                        "Condition": {"StringEquals": {"aws:SourceAccount": account_id(self)}},
                    }
                ]
            ),
        )
        if email is not None:
            SnsTopicSubscription(self, "email", topic_arn=topic.arn, protocol="email", endpoint=email)
        self.arn: str = topic.arn


def create_alarms(scope: Construct, *, naming: Naming, topic_arn: str, specs: Sequence[AlarmSpec]) -> None:
    """One alarm per spec, notifying ``topic_arn`` on ALARM and on OK."""
    for spec in specs:
        CloudwatchMetricAlarm(
            scope,
            f"alarm-{spec.key}",
            alarm_name=naming.name(spec.key),
            alarm_description=spec.description,
            namespace=spec.namespace,
            metric_name=spec.metric,
            dimensions=dict(spec.dimensions),
            statistic=spec.statistic if spec.extended_statistic is None else None,
            extended_statistic=spec.extended_statistic,
            period=spec.period_seconds,
            evaluation_periods=spec.evaluation_periods,
            threshold=spec.threshold,
            comparison_operator=spec.comparison,
            treat_missing_data=spec.treat_missing_data,
            alarm_actions=[topic_arn],
            ok_actions=[topic_arn],
        )


@dataclass(frozen=True, kw_only=True)
class DatabaseAlarmThresholds:
    """When the Aurora alarms fire."""

    cpu_percent: float = 80.0
    """Cluster average CPU. Default: 80 %."""
    freeable_memory_mib: float = 256.0
    """Freeable memory below this. Default: 256 MiB (of 4 GiB on db.t3.medium)."""
    connections: float = 300.0
    """Connections at or above this (db.t3.medium allows about 400). Default: 300."""
    replica_lag_ms: float = 1000.0
    """Maximum replica lag. Default: 1000 ms."""


def database_alarms(cluster_identifier: str, thresholds: DatabaseAlarmThresholds) -> list[AlarmSpec]:
    """Aurora alarms: CPU, freeable memory, connections, replica lag."""
    dimensions = {"DBClusterIdentifier": cluster_identifier}
    return [
        AlarmSpec(key="db-cpu", description="Aurora CPU high: slow queries or too much load", namespace="AWS/RDS",
                  metric="CPUUtilization", dimensions=dimensions, threshold=thresholds.cpu_percent),
        AlarmSpec(key="db-memory", description="Aurora freeable memory low: risk of swapping and restarts",
                  namespace="AWS/RDS", metric="FreeableMemory", dimensions=dimensions,
                  threshold=thresholds.freeable_memory_mib * 1024 * 1024, comparison="LessThanOrEqualToThreshold"),
        AlarmSpec(key="db-connections", description="Aurora connections near the instance limit",
                  namespace="AWS/RDS", metric="DatabaseConnections", dimensions=dimensions,
                  threshold=thresholds.connections, statistic="Maximum"),
        AlarmSpec(key="db-replica-lag", description="Aurora replica lag high: a failover would lose recent writes",
                  namespace="AWS/RDS", metric="AuroraReplicaLagMaximum", dimensions=dimensions,
                  threshold=thresholds.replica_lag_ms, statistic="Maximum"),
    ]  # fmt: skip


@dataclass(frozen=True, kw_only=True)
class ServiceAlarmThresholds:
    """When the ALB and ECS alarms fire."""

    elb_5xx_per_period: float = 10.0
    """5xx answered by the ALB itself per 5 minutes. Default: 10."""
    target_5xx_per_period: float = 10.0
    """5xx answered by the tasks per 5 minutes. Default: 10."""
    unhealthy_hosts: float = 1.0
    """Unhealthy targets at or above this. Default: 1."""
    p99_latency_seconds: float = 2.0
    """p99 target response time. Default: 2 s."""
    cpu_percent: float = 85.0
    """Service average CPU (autoscaling targets 70 %). Default: 85 %."""
    memory_percent: float = 85.0
    """Service average memory. Default: 85 %."""


@dataclass(frozen=True, kw_only=True)
class ServiceIdentity:
    """The metric dimensions of the API service."""

    load_balancer: str
    """ALB arn suffix (app/<name>/<id>)."""
    target_group: str
    """Target group arn suffix (targetgroup/<name>/<id>)."""
    cluster_name: str
    """ECS cluster name."""
    service_name: str
    """ECS service name."""
    min_tasks: int = 2
    """Fewest tasks the service should run. Default: 2."""


def service_alarms(service: ServiceIdentity, thresholds: ServiceAlarmThresholds) -> list[AlarmSpec]:
    """ALB and ECS alarms: 5xx, unhealthy hosts, p99 latency, CPU, memory, running tasks."""
    alb = {"LoadBalancer": service.load_balancer}
    target = {**alb, "TargetGroup": service.target_group}
    ecs = {"ClusterName": service.cluster_name, "ServiceName": service.service_name}
    return [
        AlarmSpec(key="alb-5xx", description="ALB answers 5xx itself: no healthy target or ALB error",
                  namespace="AWS/ApplicationELB", metric="HTTPCode_ELB_5XX_Count", dimensions=alb,
                  threshold=thresholds.elb_5xx_per_period, statistic="Sum", evaluation_periods=1),
        AlarmSpec(key="target-5xx", description="The API answers 5xx", namespace="AWS/ApplicationELB",
                  metric="HTTPCode_Target_5XX_Count", dimensions=target, threshold=thresholds.target_5xx_per_period,
                  statistic="Sum", evaluation_periods=1),
        AlarmSpec(key="unhealthy-hosts", description="Targets fail GET /health", namespace="AWS/ApplicationELB",
                  metric="UnHealthyHostCount", dimensions=target, threshold=thresholds.unhealthy_hosts,
                  statistic="Maximum", period_seconds=60, evaluation_periods=3),
        AlarmSpec(key="p99-latency", description="p99 response time of the API high", namespace="AWS/ApplicationELB",
                  metric="TargetResponseTime", dimensions=target, threshold=thresholds.p99_latency_seconds,
                  extended_statistic="p99"),
        AlarmSpec(key="ecs-cpu", description="Service CPU high although autoscaling targets 70 %",
                  namespace="AWS/ECS", metric="CPUUtilization", dimensions=ecs, threshold=thresholds.cpu_percent),
        AlarmSpec(key="ecs-memory", description="Service memory high: risk of OOM kills", namespace="AWS/ECS",
                  metric="MemoryUtilization", dimensions=ecs, threshold=thresholds.memory_percent),
        AlarmSpec(key="running-tasks", description="Fewer tasks running than the minimum (Spot reclaim, crash loop)",
                  namespace="ECS/ContainerInsights", metric="RunningTaskCount", dimensions=ecs,
                  threshold=service.min_tasks, comparison="LessThanThreshold", statistic="Minimum",
                  period_seconds=60, evaluation_periods=5, treat_missing_data="breaching"),
    ]  # fmt: skip


@dataclass(frozen=True, kw_only=True)
class ReleaseAlarmThresholds:
    """When a release is rolled back: the new version's error rate and latency (S-03)."""

    error_rate_percent: float = 5.0
    """Share of a target group's requests answered 5xx by the tasks. Default: 5 %."""
    min_requests_per_minute: int = 20
    """Below this many requests a minute the error rate is not judged (one error in three is noise). Default: 20."""
    p99_latency_seconds: float = 2.0
    """p99 target response time of a target group. Default: 2 s."""
    minutes: int = 2
    """Consecutive one-minute periods that must breach; fits inside the canary bake. Default: 2."""


def release_alarms(
    scope: Construct,
    *,
    naming: Naming,
    topic_arn: str,
    load_balancer: str,
    target_groups: Mapping[str, str],
    thresholds: ReleaseAlarmThresholds,
) -> list[str]:
    """5xx rate and p99 latency per target group; returns the alarm names for the service's rollback list.

    ECS moves a release between the two target groups, so each gets both alarms: whichever
    holds the new version is watched. ``target_groups`` maps a short key to an arn suffix.
    """
    names = []
    floor = thresholds.min_requests_per_minute
    for key, target_group in target_groups.items():
        dimensions = {"LoadBalancer": load_balancer, "TargetGroup": target_group}
        # Both judged only in minutes with at least `floor` requests: at low traffic one slow or
        # failing request (anyone can send an expensive search) would otherwise roll a release back.
        judged = [
            ("5xx", "the tasks in this target group answer 5xx", "HTTPCode_Target_5XX_Count", "Sum",
             f"IF(requests >= {floor}, 100 * FILL(measured, 0) / requests, 0)", "5xx % of requests",
             thresholds.error_rate_percent),
            ("p99", "p99 response time of this target group is high", "TargetResponseTime", "p99",
             f"IF(requests >= {floor}, measured, 0)", "p99 seconds", thresholds.p99_latency_seconds),
        ]  # fmt: skip
        for kind, why, metric_name, statistic, expression, label, threshold in judged:
            alarm = CloudwatchMetricAlarm(
                scope,
                f"alarm-release-{kind}-{key}",
                alarm_name=naming.name(f"release-{kind}-{key}"),
                alarm_description=f"Rolls a release back: {why}",
                metric_query=[
                    CloudwatchMetricAlarmMetricQuery(
                        id="measured", metric=_per_minute(metric_name, statistic, dimensions)
                    ),
                    CloudwatchMetricAlarmMetricQuery(
                        id="requests", metric=_per_minute("RequestCount", "Sum", dimensions)
                    ),
                    CloudwatchMetricAlarmMetricQuery(id="judged", label=label, expression=expression, return_data=True),
                ],
                evaluation_periods=thresholds.minutes,
                datapoints_to_alarm=thresholds.minutes,
                threshold=threshold,
                comparison_operator="GreaterThanOrEqualToThreshold",
                treat_missing_data="notBreaching",
                alarm_actions=[topic_arn],
                ok_actions=[topic_arn],
            )
            names.append(alarm.alarm_name)
    return names


def _per_minute(name: str, statistic: str, dimensions: Mapping[str, str]) -> CloudwatchMetricAlarmMetricQueryMetric:
    """One ALB metric per target group, per minute (p99 and the like are statistics too)."""
    return CloudwatchMetricAlarmMetricQueryMetric(
        namespace="AWS/ApplicationELB", metric_name=name, dimensions=dict(dimensions), period=60, stat=statistic
    )


@dataclass(frozen=True, kw_only=True)
class RequestPathDashboardProps:
    """Inputs of the ``RequestPathDashboard``."""

    naming: Naming
    """Naming helper for the dashboard name."""
    region: str
    """Region of the ALB, ECS and Aurora metrics."""
    distribution_id: str
    """CloudFront distribution id (metrics in us-east-1, Region=Global)."""
    service: ServiceIdentity
    """ALB, target group and ECS service dimensions."""
    db_cluster_identifier: str
    """Aurora cluster identifier."""


class RequestPathDashboard(Construct):
    """One dashboard following a request: CloudFront, ALB, ECS, Aurora."""

    def __init__(self, scope: Construct, id: str, *, props: RequestPathDashboardProps) -> None:
        super().__init__(scope, id)
        service = props.service
        cf = ["AWS/CloudFront"]
        alb = ["AWS/ApplicationELB"]
        ecs = ["AWS/ECS"]
        rds = ["AWS/RDS"]
        cf_dims = ["DistributionId", props.distribution_id, "Region", "Global"]
        widgets = [
            ("CloudFront requests and errors", "us-east-1", [
                [*cf, "Requests", *cf_dims, {"stat": "Sum"}],
                [*cf, "5xxErrorRate", *cf_dims, {"yAxis": "right"}],
                [*cf, "4xxErrorRate", *cf_dims, {"yAxis": "right"}],
            ]),
            ("ALB requests, 5xx and p99 latency", props.region, [
                [*alb, "RequestCount", "LoadBalancer", service.load_balancer, {"stat": "Sum"}],
                [*alb, "HTTPCode_ELB_5XX_Count", "LoadBalancer", service.load_balancer, {"stat": "Sum"}],
                [*alb, "HTTPCode_Target_5XX_Count", "LoadBalancer", service.load_balancer, {"stat": "Sum"}],
                [*alb, "TargetResponseTime", "LoadBalancer", service.load_balancer, {"stat": "p99", "yAxis": "right"}],
            ]),
            ("ECS service CPU, memory and tasks", props.region, [
                [*ecs, "CPUUtilization", "ClusterName", service.cluster_name, "ServiceName", service.service_name],
                [*ecs, "MemoryUtilization", "ClusterName", service.cluster_name, "ServiceName", service.service_name],
                ["ECS/ContainerInsights", "RunningTaskCount", "ClusterName", service.cluster_name, "ServiceName",
                 service.service_name, {"yAxis": "right"}],
            ]),
            ("Aurora CPU, connections and replica lag", props.region, [
                [*rds, "CPUUtilization", "DBClusterIdentifier", props.db_cluster_identifier],
                [*rds, "DatabaseConnections", "DBClusterIdentifier", props.db_cluster_identifier, {"yAxis": "right"}],
                [*rds, "AuroraReplicaLagMaximum", "DBClusterIdentifier", props.db_cluster_identifier, {"yAxis": "right"}],
            ]),
        ]  # fmt: skip
        body = {
            "widgets": [
                {
                    "type": "metric",
                    "x": 0,
                    "y": index * 6,
                    "width": 24,
                    "height": 6,
                    "properties": {
                        "title": title,
                        "region": region,
                        "metrics": metrics,
                        "period": 300,
                        "view": "timeSeries",
                    },
                }
                for index, (title, region, metrics) in enumerate(widgets)
            ]
        }
        CloudwatchDashboard(
            self, "dashboard", dashboard_name=props.naming.name("request-path"), dashboard_body=json.dumps(body)
        )
