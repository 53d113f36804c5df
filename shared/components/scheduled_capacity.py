"""Application Auto Scaling for the layers: target tracking, and sale windows as one-time scheduled actions (S-04)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from cdktf_cdktf_provider_aws.appautoscaling_policy import (
    AppautoscalingPolicy,
    AppautoscalingPolicyTargetTrackingScalingPolicyConfiguration,
    AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecification,
)
from cdktf_cdktf_provider_aws.appautoscaling_scheduled_action import (
    AppautoscalingScheduledAction,
    AppautoscalingScheduledActionScalableTargetAction,
)
from cdktf_cdktf_provider_aws.appautoscaling_target import AppautoscalingTarget
from constructs import Construct

from shared.naming import Naming


def track(
    scope: Construct,
    id: str,
    *,
    name: str,
    target: AppautoscalingTarget,
    metric: str,
    target_value: float,
    scale_in_cooldown: int,
    scale_out_cooldown: int,
    resource_label: str | None = None,
) -> AppautoscalingPolicy:
    """A target-tracking policy holding ``metric`` (a predefined metric type) at ``target_value`` on ``target``."""
    return AppautoscalingPolicy(
        scope,
        id,
        name=name,
        policy_type="TargetTrackingScaling",
        service_namespace=target.service_namespace,
        scalable_dimension=target.scalable_dimension,
        resource_id=target.resource_id,
        target_tracking_scaling_policy_configuration=AppautoscalingPolicyTargetTrackingScalingPolicyConfiguration(
            target_value=target_value,
            predefined_metric_specification=AppautoscalingPolicyTargetTrackingScalingPolicyConfigurationPredefinedMetricSpecification(
                predefined_metric_type=metric, resource_label=resource_label
            ),
            scale_in_cooldown=scale_in_cooldown,
            scale_out_cooldown=scale_out_cooldown,
        ),
    )


@dataclass(frozen=True, kw_only=True)
class CapacityWindow:
    """Capacity a scalable target holds from ``starts - lead`` until ``ends``."""

    name: str
    """Sale name, part of the actions' names (1-40 lowercase letters, digits, hyphens). No default."""
    starts: datetime
    """When the capacity must be serving, UTC. No default."""
    ends: datetime
    """When the capacity returns to the target's own bounds, UTC. No default."""
    min_capacity: int
    """Minimum during the window. No default."""
    max_capacity: int
    """Maximum during the window. No default."""


def at(moment: datetime) -> str:
    """A one-time schedule: ``at(yyyy-mm-ddThh:mm:ss)``, read in the action's ``timezone`` (UTC here).

    Format from the Application Auto Scaling API reference, PutScheduledAction, Schedule
    ("At expressions - at(yyyy-mm-ddThh:mm:ss)", Timezone: "the time zone used when setting a
    scheduled action by using an at or cron expression", default UTC) and the user guide's
    "Create scheduled actions for Application Auto Scaling using the AWS CLI", read 2026-11-29.
    """
    return f"at({moment.strftime('%Y-%m-%dT%H:%M:%S')})"


def schedule_windows(
    scope: Construct,
    id: str,
    *,
    naming: Naming,
    kind: str,
    target: AppautoscalingTarget,
    windows: Sequence[CapacityWindow],
    lead: timedelta,
    restore_min: int,
    restore_max: int,
) -> None:
    """Two actions per window on ``target``: raise at ``starts - lead``, restore at ``ends``.

    Actions on one target run in time order; the configuration refuses windows whose raised
    periods meet (shared/config.py), so one window's restore cannot undo the next one's raise.
    """
    for window in windows:
        steps = (
            ("raise", window.starts - lead, window.min_capacity, window.max_capacity),
            ("restore", window.ends, restore_min, restore_max),
        )
        for step, moment, low, high in steps:
            AppautoscalingScheduledAction(
                scope,
                f"{id}-{window.name}-{step}",
                name=naming.name(f"{kind}-{window.name}-{step}"),
                service_namespace=target.service_namespace,
                resource_id=target.resource_id,
                scalable_dimension=target.scalable_dimension,
                schedule=at(moment),
                timezone="UTC",
                # The provider takes capacities as strings (terraform-provider-aws 6.25.0).
                scalable_target_action=AppautoscalingScheduledActionScalableTargetAction(
                    min_capacity=str(low), max_capacity=str(high)
                ),
            )
