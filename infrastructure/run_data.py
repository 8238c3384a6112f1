"""The run-data bucket: outputs and log lines too large for their run record (``functions.stores.run_data``).

- Private (all public access blocked, objects owned by the bucket owner, TLS required), encrypted with
  S3-managed keys: who reads a run's data is decided by IAM, as for the runs table.
- Objects expire with the runs: a day after the records' TTL (``WFP_RUN_RETENTION_DAYS``), so a record
  never points at an object already gone while DynamoDB still shows it (its TTL deletes late, never
  early). Incomplete multipart uploads are dropped after a day (the platform makes none; a hand upload
  could).
- The functions may ``s3:PutObject`` and ``s3:GetObject`` under ``runs/`` only: nothing lists, nothing
  deletes (the lifecycle does).
- Kept when the stack is deleted, for every stage: CloudFormation cannot delete a bucket that still holds
  objects, and emptying it on delete needs a custom-resource function. After ``cdk destroy`` of a dev stage,
  ``aws s3 rb s3://<bucket> --force`` removes it (its name is the stack output ``RunDataBucket``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import CfnOutput, Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3

from .nag import acknowledge, checkov_skip

if TYPE_CHECKING:
    from infrastructure.stack import PlatformStack

#: Objects outlive their run record by this much (DynamoDB's TTL deletes late, never early).
MARGIN_DAYS = 1


def run_data_bucket(stack: PlatformStack) -> s3.Bucket:
    bucket = s3.Bucket(
        stack, "RunData", encryption=s3.BucketEncryption.S3_MANAGED, enforce_ssl=True,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL, object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        removal_policy=RemovalPolicy.RETAIN,
        lifecycle_rules=[s3.LifecycleRule(
            id="expire-with-the-runs", prefix="runs/",
            expiration=Duration.days(stack.settings.run_retention_days + MARGIN_DAYS),
            abort_incomplete_multipart_upload_after=Duration.days(1))])
    reason = ("Objects are written and read only by this stage's functions (IAM, runs/* only) and expire with "
              "the runs; CloudTrail records who called the functions' API. Access logs would be a second bucket "
              "of logs about logs.")
    acknowledge(bucket, "S1", reason)
    checkov_skip(bucket, "CKV_AWS_18", reason)
    checkov_skip(bucket, "CKV_AWS_21", "Each object is written once per run and expires with it: versions would "
                 "only keep copies of outputs past their retention.")
    # Two actions, written out: grant_read would add s3:List* and s3:GetBucket*, grant_put s3:Abort*.
    statement = iam.PolicyStatement(actions=["s3:PutObject", "s3:GetObject"],
                                    resources=[bucket.arn_for_objects("runs/*")])
    finding = f"Resource::<{stack.get_logical_id(bucket.node.default_child)}.Arn>/runs/*"  # type: ignore[arg-type]
    for function in stack.functions.values():
        function.add_to_role_policy(statement)
        function.add_environment("WFP_RUN_DATA_BUCKET", bucket.bucket_name)
        acknowledge(function.role, "IAM5", "A run's output and logs are objects named by its run id under runs/: "  # type: ignore[arg-type]
                    "runs/* covers this bucket's run data only.", finding)
    CfnOutput(stack, "RunDataBucket", value=bucket.bucket_name,
              description="Outputs and logs too large for their run record (kept after cdk destroy)")
    return bucket
