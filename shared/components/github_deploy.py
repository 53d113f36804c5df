"""GitHub Actions OIDC: the account's identity provider, a deploy role, a plan-only role,
and the permissions boundary every workload role of the layers carries.

The roles are assumed with ``sts:AssumeRoleWithWebIdentity`` from GitHub's short-lived
OIDC token, so no AWS key is stored in the repository. Trust is pinned to the audience
``sts.amazonaws.com`` and to exact subjects (GitHub's ``sub`` formats, see
https://docs.github.com/en/actions/reference/security/oidc, read 2026-11-23):

* deploy role: ``repo:<owner>/<name>:ref:refs/heads/main`` and
  ``repo:<owner>/<name>:environment:<environment>`` (a job that names a GitHub
  environment gets the environment subject instead of the ref subject);
* plan role: ``repo:<owner>/<name>:pull_request``, read-only apart from the state lock.

Permissions come from the reviewed table shared/data/iam_actions.toml (shared/iam_table.py):
the deploy role gets every action of every row, the plan role the read actions only. The
deploy role may create roles and write their policies only with the workload boundary
attached, so it cannot hand a role more than the workloads need.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.iam_openid_connect_provider import IamOpenidConnectProvider
from cdktf_cdktf_provider_aws.iam_policy import IamPolicy
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from constructs import Construct

from shared import iam_table
from shared.components.policy import Statement, policy_document

GITHUB_ISSUER = "token.actions.githubusercontent.com"
AUDIENCE = "sts.amazonaws.com"
# CloudFront, its WAF and their log group live in us-east-1; global services are requested there too.
GLOBAL_REGION = "us-east-1"
# Calls that would change the boundary policy itself: the deploy role never may.
_POLICY_CHANGES = (
    "iam:CreatePolicyVersion",
    "iam:DeletePolicy",
    "iam:DeletePolicyVersion",
    "iam:SetDefaultPolicyVersion",
    "iam:TagPolicy",
    "iam:UntagPolicy",
)


@dataclass(frozen=True, kw_only=True)
class GithubDeployProps:
    """Inputs of ``GithubDeploy``."""

    repository: str
    """GitHub repository allowed to assume the roles, "owner/name"."""
    environment: str
    """GitHub environment whose jobs may deploy, e.g. prod (the environment file's name)."""
    account_id: str
    """The deploying account's id (a token)."""
    region: str
    """Region the layers deploy to, e.g. eu-north-1."""
    project: str
    """Name prefix of every project resource, e.g. catalog-api."""
    suffix: str
    """Environment suffix every project name ends with, e.g. prod."""
    deploy_role_name: str
    """Name of the deploy role, e.g. catalog-api-deploy-prod."""
    plan_role_name: str
    """Name of the plan-only role, e.g. catalog-api-plan-prod."""
    boundary_policy_name: str
    """Name of the workload roles' permissions boundary policy, e.g. catalog-api-workload-boundary-prod."""
    state_bucket_arn: str
    """ARN of the state bucket."""
    state_prefix: str
    """Key prefix of this environment's state objects (the suffix), e.g. prod."""
    lock_table_arn: str | None = None
    """ARN of the DynamoDB lock table, when one is used. Default: None."""
    hosted_zone_id: str | None = None
    """Route 53 zone of [domain], the only one the deploy role may write records in; None: none. Default: None."""


class GithubDeploy(Construct):
    """The OIDC provider, the two roles GitHub Actions assumes (``.github/workflows/``) and the workload boundary."""

    def __init__(self, scope: Construct, id: str, *, props: GithubDeployProps) -> None:
        super().__init__(scope, id)
        # No thumbprint_list: AWS validates GitHub's OIDC endpoint through its trusted CAs,
        # and IAM fetches a thumbprint itself when none is given (IAM API reference,
        # CreateOpenIDConnectProvider / UpdateOpenIDConnectProviderThumbprint, read
        # 2026-11-23). The argument is optional in provider 6.25.0 (generated binding).
        provider = IamOpenidConnectProvider(self, "provider", url=f"https://{GITHUB_ISSUER}", client_id_list=[AUDIENCE])
        self._props = props
        self.provider_arn: str = provider.arn
        acct = props.account_id
        self.boundary_arn: str = f"arn:aws:iam::{acct}:policy/{props.boundary_policy_name}"
        boundary = IamPolicy(
            self,
            "workload-boundary",
            name=props.boundary_policy_name,
            description="Permissions boundary of every role the layers create: what the workloads need, no more",
            policy=policy_document(
                workload_boundary(region=props.region, account_id=acct, project=props.project, suffix=props.suffix)
            ),
        )
        self.boundary_policy_arn: str = boundary.arn
        placeholders = iam_table.Placeholders(
            region=props.region,
            global_region=GLOBAL_REGION,
            account=acct,
            project=props.project,
            suffix=props.suffix,
            state_bucket=props.state_bucket_arn,
            state_prefix=props.state_prefix,
            boundary=self.boundary_arn,
            lock_table=props.lock_table_arn,
            zone=props.hosted_zone_id,
        )
        rows = iam_table.load()
        repo = f"repo:{props.repository}"
        deploy = self._role(
            "deploy",
            props.deploy_role_name,
            [f"{repo}:ref:refs/heads/main", f"{repo}:environment:{props.environment}"],
        )
        plan = self._role("plan", props.plan_role_name, [f"{repo}:pull_request"])
        self._attach("deploy", "guards", deploy, self._guard_statements())
        for index, part in enumerate(iam_table.pack(iam_table.statements(rows, placeholders, plan=False)), 1):
            self._attach("deploy", f"table-{index}", deploy, part)
        for index, part in enumerate(iam_table.pack(iam_table.statements(rows, placeholders, plan=True)), 1):
            self._attach("plan", f"table-{index}", plan, part)
        self.deploy_role_arn: str = deploy.arn
        self.plan_role_arn: str = plan.arn

    def _role(self, id: str, name: str, subjects: Sequence[str]) -> IamRole:
        trust = {
            "Effect": "Allow",
            "Principal": {"Federated": self.provider_arn},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringEquals": {f"{GITHUB_ISSUER}:aud": AUDIENCE, f"{GITHUB_ISSUER}:sub": list(subjects)},
            },
        }
        return IamRole(self, f"{id}-role", name=name, assume_role_policy=policy_document([trust]))

    def _attach(self, role_id: str, concern: str, role: IamRole, statements: Sequence[Statement]) -> None:
        # Managed policies: a role's inline policies share a 10,240-character quota, each
        # managed policy has 6,144 of its own (iam_table.pack keeps each under it).
        policy = IamPolicy(
            self, f"{role_id}-{concern}-policy", name=f"{role.name}-{concern}", policy=policy_document(statements)
        )
        IamRolePolicyAttachment(self, f"{role_id}-{concern}-attachment", role=role.name, policy_arn=policy.arn)

    def _guard_statements(self) -> list[Statement]:
        p = self._props
        acct = p.account_id
        own = [f"arn:aws:iam::{acct}:role/{p.deploy_role_name}", f"arn:aws:iam::{acct}:role/{p.plan_role_name}"]
        return [
            {
                # The deploy role may manage project roles, but never its own or the plan role.
                "Sid": "NeverTheDeliveryRoles",
                "Effect": "Deny",
                "Action": "iam:*",
                "Resource": own,
            },
            {
                # ...nor the boundary that caps every role it creates...
                "Sid": "NeverTheBoundaryPolicy",
                "Effect": "Deny",
                "Action": list(_POLICY_CHANGES),
                "Resource": self.boundary_arn,
            },
            {
                # ...nor take the boundary off a role.
                "Sid": "NeverDropTheBoundary",
                "Effect": "Deny",
                "Action": "iam:DeleteRolePermissionsBoundary",
                "Resource": "*",
            },
            {
                # ...nor the bucket that holds every layer's state.
                "Sid": "NeverTheStateBucketSettings",
                "Effect": "Deny",
                "Action": [
                    "s3:DeleteBucket*",
                    "s3:PutBucket*",
                    "s3:PutLifecycleConfiguration",
                    "s3:PutEncryptionConfiguration",
                    "s3:DeleteObjectVersion",
                ],
                "Resource": [p.state_bucket_arn, f"{p.state_bucket_arn}/*"],
            },
        ]


def workload_boundary(*, region: str, account_id: str, project: str, suffix: str) -> list[Statement]:
    """The union of what the layers' service roles need, on the project's resources.

    The roles it caps: VPC flow logs, RDS Enhanced Monitoring (AWS's
    AmazonRDSEnhancedMonitoringRole, which writes to RDSOSMetrics), the ECS task execution
    and task roles, the rotation redeploy's Step Functions and EventBridge roles, and the
    ECS infrastructure role for load balancers (AWS's
    AmazonECSInfrastructureRolePolicyForLoadBalancers, ECS developer guide, read 2026-11-29).
    """
    name = f"{project}-*-{suffix}"
    logs = f"arn:aws:logs:{region}:{account_id}:log-group"
    elb = f"arn:aws:elasticloadbalancing:{region}:{account_id}"
    return [
        {
            "Sid": "ProjectLogStreams",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
            "Resource": [f"{logs}:/{project}/{suffix}/*"],
        },
        {
            "Sid": "EnhancedMonitoring",
            "Effect": "Allow",
            "Action": [
                "logs:CreateLogGroup",
                "logs:PutRetentionPolicy",
                "logs:CreateLogStream",
                "logs:PutLogEvents",
                "logs:DescribeLogStreams",
                "logs:GetLogEvents",
            ],
            "Resource": [f"{logs}:RDS*"],
        },
        {
            # ECR's authorization token is per account; the action takes no resource ARN.
            "Sid": "EcrAuth",
            "Effect": "Allow",
            "Action": "ecr:GetAuthorizationToken",
            "Resource": "*",
        },
        {
            "Sid": "EcrPull",
            "Effect": "Allow",
            "Action": ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
            "Resource": f"arn:aws:ecr:{region}:{account_id}:repository/{name}",
        },
        {
            "Sid": "ProjectSecrets",
            "Effect": "Allow",
            "Action": "secretsmanager:GetSecretValue",
            "Resource": [
                f"arn:aws:secretsmanager:{region}:{account_id}:secret:rds!cluster-*",
                f"arn:aws:secretsmanager:{region}:{account_id}:secret:{name}-*",
            ],
        },
        {
            "Sid": "RotationRedeploy",
            "Effect": "Allow",
            "Action": ["states:StartExecution", "ecs:UpdateService"],
            "Resource": [
                f"arn:aws:states:{region}:{account_id}:stateMachine:{name}",
                f"arn:aws:ecs:{region}:{account_id}:service/{name}/{name}",
            ],
        },
        {
            # Describe calls take no resource ARN.
            "Sid": "LoadBalancerReads",
            "Effect": "Allow",
            "Action": [
                "elasticloadbalancing:DescribeListeners",
                "elasticloadbalancing:DescribeRules",
                "elasticloadbalancing:DescribeTargetGroups",
                "elasticloadbalancing:DescribeTargetHealth",
            ],
            "Resource": "*",
        },
        {
            "Sid": "LoadBalancerTraffic",
            "Effect": "Allow",
            "Action": [
                "elasticloadbalancing:ModifyListener",
                "elasticloadbalancing:ModifyRule",
                "elasticloadbalancing:RegisterTargets",
                "elasticloadbalancing:DeregisterTargets",
            ],
            "Resource": [
                f"{elb}:listener/app/{name}/*/*",
                f"{elb}:listener-rule/app/{name}/*/*/*",
                f"{elb}:targetgroup/{name}/*",
            ],
        },
    ]
