"""The run-data bucket deployed: private, TLS only, encrypted, expiring with the runs, kept on delete, and
the functions may put and get objects under runs/ only (no list, no delete)."""

from __future__ import annotations

import json

from test_notices import statements_of


def test_the_bucket_is_private_encrypted_and_expires_with_the_runs(dev):
    [bucket] = dev.resources("AWS::S3::Bucket").values()
    props = bucket["Properties"]
    assert bucket["DeletionPolicy"] == "Retain"
    assert props["PublicAccessBlockConfiguration"] == {"BlockPublicAcls": True, "BlockPublicPolicy": True,
                                                       "IgnorePublicAcls": True, "RestrictPublicBuckets": True}
    assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"] == \
        {"SSEAlgorithm": "AES256"}
    [rule] = props["LifecycleConfiguration"]["Rules"]
    assert rule["Status"] == "Enabled" and rule["Prefix"] == "runs/"
    assert rule["ExpirationInDays"] == dev.stack.settings.run_retention_days + 1
    [policy] = dev.resources("AWS::S3::BucketPolicy").values()
    [deny] = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"]
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_every_function_may_put_and_get_run_data_only(dev):
    [logical_id] = dev.resources("AWS::S3::Bucket")
    for role in ("ApiRole", "SchedulerRole", "WorkerRole", "DurableRole"):
        on_bucket = [s for s in statements_of(dev, role) if logical_id in json.dumps(s["Resource"])]
        actions = {a for s in on_bucket for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
        assert actions == {"s3:PutObject", "s3:GetObject"}
        assert not {a for a in actions if a.startswith(("s3:Delete", "s3:List", "s3:PutBucket"))}, actions
        assert all(json.dumps(s["Resource"]).count("/runs/*") == 1 for s in on_bucket), on_bucket
    functions = [f for f in dev.resources("AWS::Lambda::Function").values()
                 if "WFP_RUNS_TABLE" in f["Properties"].get("Environment", {}).get("Variables", {})]
    assert len(functions) == 4
    assert all(f["Properties"]["Environment"]["Variables"]["WFP_RUN_DATA_BUCKET"] == {"Ref": logical_id}
               for f in functions)
