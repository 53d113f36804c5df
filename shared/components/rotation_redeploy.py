"""Replace the API's tasks after the database secret rotates (P-04).

ECS injects a secret only when a task starts ("If the secret is subsequently updated or
rotated, the container will not receive the updated value automatically"), and RDS rotates
the master secret every 7 days. Secrets Manager publishes a native ``Secret Label Updated``
event to EventBridge when AWSCURRENT moves to the new version, with no CloudTrail trail
needed (https://docs.aws.amazon.com/secretsmanager/latest/userguide/event-detail-secret-label-updated-secretsmanager.html,
read 2026-11-23). A rule on that event starts a Step Functions state machine whose one
task is the ECS UpdateService SDK integration with forceNewDeployment: a rolling
replacement under the deployment circuit breaker, with no function code to maintain.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.cloudwatch_event_rule import CloudwatchEventRule
from cdktf_cdktf_provider_aws.cloudwatch_event_target import CloudwatchEventTarget
from cdktf_cdktf_provider_aws.sfn_state_machine import SfnStateMachine
from constructs import Construct

from shared.components.iam import InlinePolicy, service_role
from shared.components.monitoring import AlarmSpec
from shared.naming import Naming

ROTATION_EVENT_TYPE = "Secret Label Updated"


@dataclass(frozen=True, kw_only=True)
class RotationRedeployProps:
    """Inputs of a ``RotationRedeploy``."""

    naming: Naming
    """Naming helper for the rule, state machine and roles."""
    secret_arn: str
    """The rotating secret (the RDS-managed master secret)."""
    cluster_arn: str
    """ECS cluster of the service."""
    service_arn: str
    """ECS service whose tasks are replaced."""
    retry_attempts: int = 5
    """Retries of UpdateService on throttling or a deployment in progress. Default: 5."""
    retry_interval_seconds: int = 30
    """First retry wait, doubled each attempt. Default: 30 s."""
    permissions_boundary: str | None = None
    """ARN of the permissions boundary policy its roles carry; None: none. Default: None."""


class RotationRedeploy(Construct):
    """EventBridge rule -> Step Functions -> ecs:UpdateService(forceNewDeployment)."""

    def __init__(self, scope: Construct, id: str, *, props: RotationRedeployProps) -> None:
        super().__init__(scope, id)
        naming = props.naming
        machine_role = service_role(
            self,
            "machine-role",
            name=naming.name("rotation-sfn"),
            service="states.amazonaws.com",
            permissions_boundary=props.permissions_boundary,
            policy=InlinePolicy(
                id="machine-policy",
                name="force-new-deployment",
                statements=[
                    {
                        "Sid": "RedeployTheApiOnly",
                        "Effect": "Allow",
                        "Action": "ecs:UpdateService",
                        "Resource": props.service_arn,
                    }
                ],
            ),
        )
        definition = {
            "Comment": "Replace the API tasks so they read the rotated database secret",
            "StartAt": "ForceNewDeployment",
            "States": {
                "ForceNewDeployment": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::aws-sdk:ecs:updateService",
                    "Parameters": {
                        "Cluster": props.cluster_arn,
                        "Service": props.service_arn,
                        "ForceNewDeployment": True,
                    },
                    "Retry": [
                        {
                            "ErrorEquals": ["States.ALL"],
                            "IntervalSeconds": props.retry_interval_seconds,
                            "MaxAttempts": props.retry_attempts,
                            "BackoffRate": 2,
                        }
                    ],
                    "End": True,
                }
            },
        }
        machine = SfnStateMachine(
            self,
            "machine",
            name=naming.name("rotation-redeploy"),
            type="STANDARD",
            role_arn=machine_role.arn,
            definition=json.dumps(definition, sort_keys=True),
        )
        rule = CloudwatchEventRule(
            self,
            "rule",
            name=naming.name("db-secret-rotated"),
            description="The database secret's AWSCURRENT version moved: replace the API tasks",
            event_pattern=json.dumps(
                {
                    "source": ["aws.secretsmanager"],
                    "detail-type": [ROTATION_EVENT_TYPE],
                    "resources": [props.secret_arn],
                    "detail": {"labelUpdated": ["AWSCURRENT"]},
                },
                sort_keys=True,
            ),
        )
        events_role = service_role(
            self,
            "events-role",
            name=naming.name("rotation-events"),
            service="events.amazonaws.com",
            permissions_boundary=props.permissions_boundary,
            policy=InlinePolicy(
                id="events-policy",
                name="start-rotation-redeploy",
                statements=[
                    {
                        "Sid": "StartRedeploy",
                        "Effect": "Allow",
                        "Action": "states:StartExecution",
                        "Resource": machine.arn,
                    }
                ],
            ),
        )
        CloudwatchEventTarget(
            self, "target", rule=rule.name, arn=machine.arn, role_arn=events_role.arn, target_id="redeploy"
        )
        self.state_machine_arn: str = machine.arn
        self.state_machine_name: str = machine.name
        # ExecutionsFailed sees only executions that started; when EventBridge cannot start one
        # (role, policy or state machine wrong) the rule's FailedInvocations counts it
        # (AWS/Events, dimension RuleName; EventBridge user guide "Monitoring Amazon EventBridge",
        # read 2026-11-29).
        self.start_failed_alarm: AlarmSpec = AlarmSpec(
            key="rotation-redeploy-not-started",
            description="The DB secret rotated but EventBridge could not start the redeploy; run make deploy-app or force a new deployment",
            namespace="AWS/Events",
            metric="FailedInvocations",
            dimensions={"RuleName": rule.name},
            threshold=1,
            statistic="Sum",
            evaluation_periods=1,
        )
