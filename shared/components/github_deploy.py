"""GitHub Actions OIDC: the account's identity provider, a deploy role and a plan-only role.

The roles are assumed with ``sts:AssumeRoleWithWebIdentity`` from GitHub's short-lived
OIDC token, so no AWS key is stored in the repository. Trust is pinned to the audience
``sts.amazonaws.com`` and to exact subjects (GitHub's ``sub`` formats, see
https://docs.github.com/en/actions/reference/security/oidc, read 2026-11-23):

* deploy role: ``repo:<owner>/<name>:ref:refs/heads/main`` and
  ``repo:<owner>/<name>:environment:<environment>`` (a job that names a GitHub
  environment gets the environment subject instead of the ref subject);
* plan role: ``repo:<owner>/<name>:pull_request``, read-only apart from the state lock.

Permissions are scoped to the state objects of this environment and to resources whose
names start with the project prefix. What IAM cannot narrow by name (EC2 networking,
CloudFront, Application Auto Scaling, describe calls) is granted on ``*`` in the
deployment region and us-east-1 only; docs/security.md and docs/deployment.md say so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cdktf_cdktf_provider_aws.iam_openid_connect_provider import IamOpenidConnectProvider
from cdktf_cdktf_provider_aws.iam_policy import IamPolicy
from cdktf_cdktf_provider_aws.iam_role import IamRole
from cdktf_cdktf_provider_aws.iam_role_policy_attachment import IamRolePolicyAttachment
from constructs import Construct

from shared.components.policy import Statement, policy_document

GITHUB_ISSUER = "token.actions.githubusercontent.com"
AUDIENCE = "sts.amazonaws.com"
# CloudFront, its WAF and their log group live in us-east-1; global services are requested there too.
GLOBAL_REGION = "us-east-1"
# Services whose resources this project names "<project>-…" (so their ARNs carry the prefix).
_NAMED_SERVICES = (
    "s3",
    "ecs",
    "elasticloadbalancing",
    "rds",
    "logs",
    "sns",
    "cloudwatch",
    "wafv2",
    "ecr",
    "secretsmanager",
    "states",
    "events",
)
# EC2 networking only: no instances, volumes or images.
_EC2_NETWORKING = (
    "ec2:Describe*",
    "ec2:Get*",
    "ec2:*Vpc*",
    "ec2:*Subnet*",
    "ec2:*InternetGateway*",
    "ec2:*NatGateway*",
    "ec2:*Address*",
    "ec2:*RouteTable*",
    "ec2:*Route",
    "ec2:*SecurityGroup*",
    "ec2:*FlowLogs*",
    "ec2:CreateTags",
    "ec2:DeleteTags",
)
# Read calls a plan's refresh makes against the project's resource types.
_READ_ACTIONS = (
    "ec2:Describe*",
    "ec2:Get*",
    "ecs:Describe*",
    "ecs:List*",
    "elasticloadbalancing:Describe*",
    "rds:Describe*",
    "rds:ListTagsForResource",
    "logs:Describe*",
    "logs:ListTagsForResource",
    "logs:ListTagsLogGroup",
    "sns:GetTopicAttributes",
    "sns:GetSubscriptionAttributes",
    "sns:ListSubscriptionsByTopic",
    "sns:ListTagsForResource",
    "cloudwatch:Describe*",
    "cloudwatch:GetDashboard",
    "cloudwatch:ListTagsForResource",
    "application-autoscaling:Describe*",
    "iam:GetRole",
    "iam:GetRolePolicy",
    "iam:ListRolePolicies",
    "iam:ListAttachedRolePolicies",
    "iam:GetPolicy",
    "iam:GetPolicyVersion",
    "iam:GetOpenIDConnectProvider",
    "cloudfront:Get*",
    "cloudfront:List*",
    "wafv2:Get*",
    "wafv2:List*",
    "ecr:Describe*",
    "ecr:List*",
    "ecr:GetLifecyclePolicy",
    "ecr:GetRepositoryPolicy",
    "secretsmanager:DescribeSecret",
    "secretsmanager:GetResourcePolicy",
    "states:DescribeStateMachine",
    "states:ListTagsForResource",
    "events:DescribeRule",
    "events:ListTargetsByRule",
    "events:ListTagsForResource",
    "kms:DescribeKey",
)
_BUCKET_READ_ACTIONS = (
    "s3:GetBucket*",
    "s3:GetLifecycleConfiguration",
    "s3:GetEncryptionConfiguration",
    "s3:GetAccelerateConfiguration",
    "s3:GetReplicationConfiguration",
    "s3:ListBucket",
)
# AWS-managed service roles the project attaches (e.g. RDS enhanced monitoring); never AdministratorAccess.
_ATTACHABLE_POLICIES = "arn:aws:iam::aws:policy/service-role/*"
_PASSED_TO = (
    "ecs-tasks.amazonaws.com",
    "vpc-flow-logs.amazonaws.com",
    "monitoring.rds.amazonaws.com",
    # The rotation redeploy (app layer): EventBridge starts the state machine, which updates ECS.
    "states.amazonaws.com",
    "events.amazonaws.com",
)
_SERVICE_LINKED = (
    "ecs.amazonaws.com",
    "elasticloadbalancing.amazonaws.com",
    "rds.amazonaws.com",
    "ecs.application-autoscaling.amazonaws.com",
    # CloudFront VPC origins manage their network interfaces through AWSServiceRoleForCloudFrontVPCOrigin
    # ("Use service-linked roles for CloudFront", CloudFront Developer Guide, read 2026-11-23).
    "vpcorigin.cloudfront.amazonaws.com",
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
    deploy_role_name: str
    """Name of the deploy role, e.g. catalog-api-deploy-prod."""
    plan_role_name: str
    """Name of the plan-only role, e.g. catalog-api-plan-prod."""
    state_bucket_arn: str
    """ARN of the state bucket."""
    state_prefix: str
    """Key prefix of this environment's state objects (the suffix), e.g. prod."""
    lock_table_arn: str | None = None
    """ARN of the DynamoDB lock table, when one is used. Default: None."""


class GithubDeploy(Construct):
    """The OIDC provider and the two roles GitHub Actions assumes (``.github/workflows/``)."""

    def __init__(self, scope: Construct, id: str, *, props: GithubDeployProps) -> None:
        super().__init__(scope, id)
        # No thumbprint_list: AWS validates GitHub's OIDC endpoint through its trusted CAs,
        # and IAM fetches a thumbprint itself when none is given (IAM API reference,
        # CreateOpenIDConnectProvider / UpdateOpenIDConnectProviderThumbprint, read
        # 2026-11-23). The argument is optional in provider 6.25.0 (generated binding).
        provider = IamOpenidConnectProvider(self, "provider", url=f"https://{GITHUB_ISSUER}", client_id_list=[AUDIENCE])
        self._props = props
        self.provider_arn: str = provider.arn
        repo = f"repo:{props.repository}"
        deploy = self._role(
            "deploy",
            props.deploy_role_name,
            [f"{repo}:ref:refs/heads/main", f"{repo}:environment:{props.environment}"],
        )
        plan = self._role("plan", props.plan_role_name, [f"{repo}:pull_request"])
        self._attach("deploy-state", deploy, self._state_statements(write=True))
        self._attach("deploy-resources", deploy, self._deploy_statements())
        self._attach("plan-state", plan, self._state_statements(write=False))
        self._attach("plan-read", plan, self._read_statements())
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

    def _attach(self, id: str, role: IamRole, statements: Sequence[Statement]) -> None:
        # One managed policy per concern: a role's inline policies share a 10,240-character
        # quota, a managed policy has 6,144 of its own.
        name = f"{role.name}-{id.split('-', 1)[1]}"
        policy = IamPolicy(self, f"{id}-policy", name=name, policy=policy_document(statements))
        IamRolePolicyAttachment(self, f"{id}-attachment", role=role.name, policy_arn=policy.arn)

    def _state_statements(self, *, write: bool) -> list[Statement]:
        p = self._props
        objects = f"{p.state_bucket_arn}/{p.state_prefix}/*"
        statements: list[Statement] = [
            # Unconditional on purpose: with an s3:prefix condition a GetObject of a not-yet
            # existing state answers 403 instead of 404, and the first deploy fails.
            {"Sid": "ListStateBucket", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": p.state_bucket_arn},
            {
                "Sid": "ReadWriteState" if write else "ReadState",
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:PutObject"] if write else ["s3:GetObject"],
                "Resource": objects,
            },
            # Terraform's S3 lock file <key>.tflock: plans take the lock too.
            {
                "Sid": "StateLockFiles",
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                "Resource": f"{objects}.tflock",
            },
        ]
        if p.lock_table_arn is not None:
            statements.append(
                {
                    "Sid": "StateLockTable",
                    "Effect": "Allow",
                    "Action": ["dynamodb:DescribeTable", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"],
                    "Resource": p.lock_table_arn,
                }
            )
        return statements

    def _regions(self) -> dict[str, dict[str, list[str]]]:
        return {"StringEquals": {"aws:RequestedRegion": sorted({self._props.region, GLOBAL_REGION})}}

    def _deploy_statements(self) -> list[Statement]:
        p = self._props
        acct, region, prefix = p.account_id, p.region, f"{p.project}-"
        named = [
            f"arn:aws:s3:::{prefix}*",
            f"arn:aws:s3:::{prefix}*/*",
            f"arn:aws:ecs:{region}:{acct}:cluster/{prefix}*",
            f"arn:aws:ecs:{region}:{acct}:service/{prefix}*/*",
            f"arn:aws:ecs:{region}:{acct}:task-definition/{prefix}*:*",
            f"arn:aws:elasticloadbalancing:{region}:{acct}:loadbalancer/app/{prefix}*/*",
            f"arn:aws:elasticloadbalancing:{region}:{acct}:targetgroup/{prefix}*/*",
            f"arn:aws:elasticloadbalancing:{region}:{acct}:listener/app/{prefix}*/*/*",
            f"arn:aws:elasticloadbalancing:{region}:{acct}:listener-rule/app/{prefix}*/*/*/*",
            f"arn:aws:rds:{region}:{acct}:cluster:{prefix}*",
            f"arn:aws:rds:{region}:{acct}:db:{prefix}*",
            f"arn:aws:rds:{region}:{acct}:subgrp:{prefix}*",
            f"arn:aws:rds:{region}:{acct}:cluster-pg:{prefix}*",
            f"arn:aws:logs:{region}:{acct}:log-group:/{p.project}/*",
            f"arn:aws:logs:{region}:{acct}:log-group:/aws/rds/cluster/{prefix}*",
            f"arn:aws:logs:{GLOBAL_REGION}:{acct}:log-group:aws-waf-logs-{prefix}*",
            f"arn:aws:sns:{region}:{acct}:{prefix}*",
            f"arn:aws:cloudwatch:{region}:{acct}:alarm:{prefix}*",
            f"arn:aws:cloudwatch::{acct}:dashboard/{prefix}*",
            f"arn:aws:wafv2:{GLOBAL_REGION}:{acct}:global/webacl/{prefix}*/*",
            f"arn:aws:ecr:{region}:{acct}:repository/{prefix}*",
            # The Aurora master secret RDS creates on the caller's behalf is named rds!cluster-<id>.
            f"arn:aws:secretsmanager:{region}:{acct}:secret:rds!*",
            f"arn:aws:secretsmanager:{region}:{acct}:secret:{prefix}*",
            f"arn:aws:states:{region}:{acct}:stateMachine:{prefix}*",
            f"arn:aws:events:{region}:{acct}:rule/{prefix}*",
        ]
        roles = f"arn:aws:iam::{acct}:role/{prefix}*"
        own = [f"arn:aws:iam::{acct}:role/{p.deploy_role_name}", f"arn:aws:iam::{acct}:role/{p.plan_role_name}"]
        return [
            {
                "Sid": "ProjectNamedResources",
                "Effect": "Allow",
                "Action": [f"{service}:*" for service in _NAMED_SERVICES],
                "Resource": named,
            },
            {
                "Sid": "ProjectRoles",
                "Effect": "Allow",
                "Action": [
                    "iam:CreateRole",
                    "iam:DeleteRole",
                    "iam:GetRole",
                    "iam:UpdateRole",
                    "iam:UpdateAssumeRolePolicy",
                    "iam:TagRole",
                    "iam:UntagRole",
                    "iam:ListRoleTags",
                    "iam:PutRolePolicy",
                    "iam:GetRolePolicy",
                    "iam:DeleteRolePolicy",
                    "iam:ListRolePolicies",
                    "iam:DetachRolePolicy",
                    "iam:ListAttachedRolePolicies",
                    "iam:ListInstanceProfilesForRole",
                ],
                "Resource": roles,
            },
            {
                "Sid": "AttachOnlyAwsServiceRolePolicies",
                "Effect": "Allow",
                "Action": "iam:AttachRolePolicy",
                "Resource": roles,
                "Condition": {"ArnLike": {"iam:PolicyARN": _ATTACHABLE_POLICIES}},
            },
            {
                "Sid": "PassProjectRolesToServices",
                "Effect": "Allow",
                "Action": "iam:PassRole",
                "Resource": roles,
                "Condition": {"StringEquals": {"iam:PassedToService": list(_PASSED_TO)}},
            },
            {
                "Sid": "ServiceLinkedRoles",
                "Effect": "Allow",
                "Action": "iam:CreateServiceLinkedRole",
                "Resource": f"arn:aws:iam::{acct}:role/aws-service-role/*",
                "Condition": {"StringEquals": {"iam:AWSServiceName": list(_SERVICE_LINKED)}},
            },
            {
                # Names cannot narrow these: EC2 ids are generated, CloudFront ids too, and the
                # create/describe calls of these services take no resource ARN.
                "Sid": "UnnamedResourcesInDeployRegions",
                "Effect": "Allow",
                "Action": [
                    *_EC2_NETWORKING,
                    "cloudfront:*",
                    "application-autoscaling:*",
                    "ecs:RegisterTaskDefinition",
                    "ecs:DeregisterTaskDefinition",
                    "ecs:Describe*",
                    "ecs:List*",
                    "elasticloadbalancing:Describe*",
                    "rds:Describe*",
                    "logs:Describe*",
                    "logs:CreateLogDelivery",
                    "logs:GetLogDelivery",
                    "logs:UpdateLogDelivery",
                    "logs:DeleteLogDelivery",
                    "logs:ListLogDeliveries",
                    "logs:PutResourcePolicy",
                    "logs:DescribeResourcePolicies",
                    "cloudwatch:Describe*",
                    "cloudwatch:List*",
                    "sns:List*",
                    "wafv2:List*",
                    "wafv2:Get*",
                    "wafv2:CheckCapacity",
                    "wafv2:DescribeManagedRuleGroup",
                    "ecr:GetAuthorizationToken",
                    "kms:DescribeKey",
                    "iam:GetOpenIDConnectProvider",
                ],
                "Resource": "*",
                "Condition": self._regions(),
            },
            {
                # The deploy role may manage project roles, but never its own or the plan role.
                "Sid": "NeverTheDeliveryRoles",
                "Effect": "Deny",
                "Action": "iam:*",
                "Resource": own,
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

    def _read_statements(self) -> list[Statement]:
        prefix = f"{self._props.project}-"
        return [
            {
                "Sid": "DescribeProjectResourceTypes",
                "Effect": "Allow",
                "Action": list(_READ_ACTIONS),
                "Resource": "*",
                "Condition": self._regions(),
            },
            {
                "Sid": "ReadProjectBucketSettings",
                "Effect": "Allow",
                "Action": list(_BUCKET_READ_ACTIONS),
                "Resource": f"arn:aws:s3:::{prefix}*",
            },
        ]
