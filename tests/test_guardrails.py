"""Guardrails (F-1 to F-6, F-8): each rule refuses a deliberately broken resource at synth, and the real app passes."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cdktf
import pytest
from cdktf import Aspects, LocalBackend, S3Backend, TerraformStack
from cdktf_cdktf_provider_aws.cloudfront_distribution import (
    CloudfrontDistribution,
    CloudfrontDistributionDefaultCacheBehavior,
    CloudfrontDistributionDefaultCacheBehaviorForwardedValues,
    CloudfrontDistributionDefaultCacheBehaviorForwardedValuesCookies,
    CloudfrontDistributionOrigin,
    CloudfrontDistributionRestrictions,
    CloudfrontDistributionRestrictionsGeoRestriction,
    CloudfrontDistributionViewerCertificate,
)
from cdktf_cdktf_provider_aws.ecs_cluster_capacity_providers import EcsClusterCapacityProviders
from cdktf_cdktf_provider_aws.ecs_service import EcsService, EcsServiceCapacityProviderStrategy
from cdktf_cdktf_provider_aws.ecs_task_definition import EcsTaskDefinition
from cdktf_cdktf_provider_aws.lb import Lb
from cdktf_cdktf_provider_aws.provider import AwsProvider
from cdktf_cdktf_provider_aws.rds_cluster import RdsCluster
from cdktf_cdktf_provider_aws.rds_cluster_instance import RdsClusterInstance
from cdktf_cdktf_provider_aws.s3_bucket_lifecycle_configuration import (
    S3BucketLifecycleConfiguration,
    S3BucketLifecycleConfigurationRule,
    S3BucketLifecycleConfigurationRuleExpiration,
)
from cdktf_cdktf_provider_aws.secretsmanager_secret import SecretsmanagerSecret

import main
import shared.components.fargate_service
from shared.guardrails import Guardrails, check_stack, rules
from tests.synth import STACKS, Synthesis

Builder = Callable[[TerraformStack], object]


def _refused(build: Builder, *, backend: Builder | None = None) -> str:
    """Synthesize a one-stack app holding what ``build`` adds; return the validation error."""
    app = cdktf.Testing.app()
    stack = TerraformStack(app, "broken")
    AwsProvider(stack, "aws", region="eu-north-1")
    (backend or (lambda s: LocalBackend(s, path="state.tfstate")))(stack)
    build(stack)
    Aspects.of(stack).add(Guardrails())
    with pytest.raises(Exception, match="Validation failed") as raised:
        app.synth()
    return str(raised.value)


def _task(
    stack: TerraformStack, image: str, *, secrets: bool = False, environment: dict[str, str] | None = None
) -> None:
    container: dict[str, object] = {"name": "api", "image": image, "essential": True}
    if secrets:
        container["secrets"] = [
            {"name": "DB_PASSWORD", "valueFrom": "arn:aws:secretsmanager:eu-north-1:1:secret:db:password::"}
        ]
    if environment:
        container["environment"] = [{"name": k, "value": v} for k, v in environment.items()]
    EcsTaskDefinition(stack, "task", family="catalog-api", container_definitions=json.dumps([container]))


def _distribution(stack: TerraformStack, behavior: CloudfrontDistributionDefaultCacheBehavior) -> None:
    CloudfrontDistribution(
        stack,
        "cdn",
        enabled=True,
        origin=[CloudfrontDistributionOrigin(domain_name="example.com", origin_id="o")],
        default_cache_behavior=behavior,
        restrictions=CloudfrontDistributionRestrictions(
            geo_restriction=CloudfrontDistributionRestrictionsGeoRestriction(restriction_type="none")
        ),
        viewer_certificate=CloudfrontDistributionViewerCertificate(cloudfront_default_certificate=True),
    )


def _behavior(**extra: object) -> CloudfrontDistributionDefaultCacheBehavior:
    return CloudfrontDistributionDefaultCacheBehavior(
        target_origin_id="o",
        viewer_protocol_policy="redirect-to-https",
        allowed_methods=["GET", "HEAD"],
        cached_methods=["GET", "HEAD"],
        **extra,  # type: ignore[arg-type]
    )


def test_real_app_passes_every_guardrail(synth: Synthesis) -> None:
    stack_rules = rules()
    for stack in STACKS:
        assert check_stack(synth.stacks[stack], stack_rules) == [], stack


def test_f1_invented_backend_property_is_refused() -> None:
    def build(stack: TerraformStack) -> None:
        stack.add_override("terraform.backend.local.use_lockfile", True)

    message = _refused(build)
    assert (
        '[broken] [F-1] terraform.backend.local.use_lockfile: Terraform fails at init with "No argument or block type is named \\"use_lockfile\\"". Fix: remove the override; allowed: path, workspace_dir.'
        in message
    )


def test_f1_s3_backend_without_locking_or_encryption_is_refused() -> None:
    message = _refused(lambda s: None, backend=lambda s: S3Backend(s, bucket="b", key="k", region="eu-north-1"))
    assert "[F-1] terraform.backend.s3.encrypt: state must be encrypted. Fix: encrypt = true." in message
    assert "[F-1] terraform.backend.s3: no state locking. Fix: use_lockfile = true" in message


def test_f2_aurora_version_not_offered_in_region_is_refused() -> None:
    def build(stack: TerraformStack) -> None:
        RdsCluster(stack, "db", engine="aurora-postgresql", engine_version="15.3", cluster_identifier="catalog-db")

    message = _refused(build)
    assert (
        "[F-2] aws_rds_cluster broken/db: engine_version '15.3' is not offered for aurora-postgresql in eu-north-1 "
        '(AWS: "Cannot find version 15.3 for aurora-postgresql"). Fix: resolve it at plan time' in message
    )


def test_f2_withdrawn_minor_is_refused() -> None:
    def build(stack: TerraformStack) -> None:
        RdsCluster(stack, "db", engine="aurora-postgresql", engine_version="16.4", cluster_identifier="catalog-db")

    assert "[F-2] aws_rds_cluster broken/db: engine_version '16.4' is not offered" in _refused(build)


def test_f2_major_below_16_is_refused_in_any_region() -> None:
    def build(stack: TerraformStack) -> None:
        RdsCluster(stack, "db", engine="aurora-postgresql", engine_version="14.9", cluster_identifier="catalog-db")

    assert "[F-2] aws_rds_cluster broken/db: engine_version '14.9' is below major 16 (R-08)" in _refused(build)


def test_p01_pinned_version_with_automatic_minor_upgrades_is_refused() -> None:
    def build(stack: TerraformStack) -> None:
        cluster = RdsCluster(
            stack, "db", engine="aurora-postgresql", engine_version="16.8", cluster_identifier="catalog-db"
        )
        RdsClusterInstance(
            stack, "one", cluster_identifier=cluster.id, instance_class="db.t3.medium", engine="aurora-postgresql"
        )

    message = _refused(build)
    assert (
        "[P-01] aws_rds_cluster broken/db: engine_version '16.8' is pinned while AWS may upgrade the minor" in message
    )


def test_p01_pinned_version_is_accepted_when_terraform_ignores_upgrades() -> None:
    from shared.guardrails import aurora_facts, check_aurora_version

    cluster: dict[str, Any] = {
        "engine": "aurora-postgresql",
        "engine_version": "16.8",
        "lifecycle": {"ignore_changes": ["engine_version"]},
    }
    instances: dict[str, Any] = {"one": {}}
    doc = {
        "provider": {"aws": [{"region": "eu-north-1"}]},
        "resource": {"aws_rds_cluster": {"db": cluster}, "aws_rds_cluster_instance": instances},
    }
    assert check_aurora_version(aurora_facts())(doc) == []
    cluster["lifecycle"] = {}
    instances["one"] = {"auto_minor_version_upgrade": False}
    assert check_aurora_version(aurora_facts())(doc) == [], "pinned LTS minor with upgrades off"


def test_p02_db_secret_handed_to_a_third_party_placeholder_is_refused() -> None:
    message = _refused(lambda s: _task(s, "public.ecr.aws/traefik/whoami:v1.10.3", secrets=True))
    assert (
        "[P-02] aws_ecs_task_definition broken/task container 'api': the secrets DB_PASSWORD would be handed to "
        "'public.ecr.aws/traefik/whoami:v1.10.3', a known third-party placeholder image" in message
    )


def test_p02_db_secret_handed_to_any_image_outside_the_private_ecr_is_refused() -> None:
    message = _refused(lambda s: _task(s, "public.ecr.aws/someone/api:1", secrets=True))
    assert "'public.ecr.aws/someone/api:1', an image the project does not own" in message


def test_p02_password_in_plain_environment_is_refused() -> None:
    message = _refused(lambda s: _task(s, "public.ecr.aws/someone/api:1", environment={"DB_PASSWORD": "hunter2"}))
    assert "[R-05] aws_ecs_task_definition broken/task container 'api': DB_PASSWORD in plain environment" in message


def test_p03_docker_hub_image_is_refused() -> None:
    message = _refused(lambda s: _task(s, "traefik/whoami:v1.10.3"))
    assert (
        "[P-03] aws_ecs_task_definition broken/task container 'api': image 'traefik/whoami:v1.10.3' is not pulled through ECR"
        in message
    )


def test_p07_final_snapshot_without_a_name_is_refused() -> None:
    def build(stack: TerraformStack) -> None:
        RdsCluster(stack, "db", engine="aurora-postgresql", cluster_identifier="catalog-db", skip_final_snapshot=False)

    message = _refused(build)
    assert (
        "[P-07] aws_rds_cluster broken/db: skip_final_snapshot is false but final_snapshot_identifier is not set"
        in message
    )


def test_f3_cache_policy_with_forwarded_values_is_refused() -> None:
    forwarded = CloudfrontDistributionDefaultCacheBehaviorForwardedValues(
        query_string=True, cookies=CloudfrontDistributionDefaultCacheBehaviorForwardedValuesCookies(forward="none")
    )
    message = _refused(
        lambda s: _distribution(
            s, _behavior(cache_policy_id="4135ea2d-6df8-44a3-9df3-4b5a84be39ad", forwarded_values=forwarded)
        )
    )
    assert (
        "[F-3] aws_cloudfront_distribution broken/cdn.default_cache_behavior: cache_policy_id and forwarded_values are both set"
        in message
    )


def test_f3_unknown_policy_id_is_refused() -> None:
    message = _refused(lambda s: _distribution(s, _behavior(cache_policy_id="not-a-policy")))
    assert (
        "[F-3] aws_cloudfront_distribution broken/cdn.default_cache_behavior.cache_policy_id: 'not-a-policy' is neither an AWS managed policy ID"
        in message
    )


def test_f4_launch_type_with_capacity_provider_strategy_is_refused() -> None:
    def build(stack: TerraformStack) -> None:
        EcsClusterCapacityProviders(stack, "cp", cluster_name="c", capacity_providers=["FARGATE", "FARGATE_SPOT"])
        EcsService(
            stack,
            "svc",
            name="svc",
            launch_type="FARGATE",
            capacity_provider_strategy=[EcsServiceCapacityProviderStrategy(capacity_provider="FARGATE_SPOT", weight=1)],
        )

    message = _refused(build)
    assert (
        '[F-4] aws_ecs_service broken/svc: launch_type and capacity_provider_strategy are both set (AWS: "Specifying both a launch type and capacity provider strategy is not supported."). Fix: remove launch_type.'
        in message
    )


def test_f4_strategy_provider_not_associated_with_cluster_is_refused() -> None:
    def build(stack: TerraformStack) -> None:
        EcsClusterCapacityProviders(stack, "cp", cluster_name="c", capacity_providers=["FARGATE"])
        EcsService(
            stack,
            "svc",
            name="svc",
            capacity_provider_strategy=[EcsServiceCapacityProviderStrategy(capacity_provider="FARGATE_SPOT", weight=1)],
        )

    message = _refused(build)
    assert (
        "[F-4] aws_ecs_service broken/svc: capacity provider 'FARGATE_SPOT' is not associated with the cluster."
        in message
    )


def test_f5_unscoped_lifecycle_rule_is_refused() -> None:
    def build(stack: TerraformStack) -> None:
        S3BucketLifecycleConfiguration(
            stack,
            "lifecycle",
            bucket="b",
            rule=[
                S3BucketLifecycleConfigurationRule(
                    id="expire", status="Enabled", expiration=[S3BucketLifecycleConfigurationRuleExpiration(days=30)]
                )
            ],
        )

    message = _refused(build)
    assert (
        "[F-5] aws_s3_bucket_lifecycle_configuration broken/lifecycle.rule[0] (expire): no filter or prefix" in message
    )


def test_f6_secret_without_recovery_window_is_refused() -> None:
    message = _refused(lambda s: SecretsmanagerSecret(s, "secret", name="catalog-api-db-dev"))
    assert "[F-6] aws_secretsmanager_secret broken/secret: recovery_window_in_days is not set" in message


def test_f8_alb_name_over_32_characters_is_refused() -> None:
    message = _refused(lambda s: Lb(s, "alb", name="catalog-api-alb-a-very-long-suffix"))
    assert (
        "[F-8] aws_lb broken/alb.name: 'catalog-api-alb-a-very-long-suffix' (34 characters) breaks the AWS limit of 1-32 characters"
        in message
    )


@pytest.mark.parametrize(
    "type_,attribute,value",
    [
        ("aws_lb_target_group", "name", "catalog-api-tg-dev-"),
        ("aws_s3_bucket", "bucket", "Catalog-Logs"),
        ("aws_s3_bucket", "bucket", "catalog-api-cdn-logs-" + "s" * 31 + "-${data.aws_caller_identity.a.account_id}"),
        ("aws_rds_cluster", "cluster_identifier", "catalog--api"),
        ("aws_rds_cluster_instance", "identifier", "1catalog"),
        ("aws_iam_role", "name", "r" * 65),
    ],
)
def test_f8_name_limits(synth: Synthesis, type_: str, attribute: str, value: str) -> None:
    stack = next(s for s in STACKS if type_ in synth.stacks[s].get("resource", {}))
    doc = json.loads(synth.texts[stack])
    first = next(iter(doc["resource"][type_].values()))
    first[attribute] = value
    errors = check_stack(doc, rules())
    assert len(errors) == 1 and errors[0].startswith(f"[F-8] {type_} ") and f".{attribute}: {value!r}" in errors[0]


def test_broken_app_makes_synth_fail_and_keeps_earlier_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    earlier = tmp_path / "cdktf.out" / "manifest.json"
    earlier.parent.mkdir()
    earlier.write_text("{}")
    # A placeholder from Docker Hub: the app stack is now broken (P-03).
    monkeypatch.setattr(shared.components.fargate_service, "PLACEHOLDER_IMAGE", "traefik/whoami:v1.10.3")
    environ = {"CDKTF_OUTDIR": str(tmp_path / "cdktf.out"), "CATALOG_OVERRIDES": "CONTAINER_IMAGE"}
    assert main.main({**environ, "CONTAINER_IMAGE": "placeholder"}) == 1
    override, error = capsys.readouterr().err.split("\n", 1)
    assert override == "environment dev: overridden by the environment: CONTAINER_IMAGE"
    assert error.startswith("synth refused: Error: Validation failed with the following errors:")
    assert "[app] [P-03] aws_ecs_task_definition app/api/task container 'api': image 'traefik/whoami:v1.10.3'" in error
    assert "Traceback" not in error
    assert "skipValidation" not in error, "no advice to switch the guardrails off"
    assert earlier.read_text() == "{}"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cdktf.out"], "no staging folder left behind"
