"""The CDK app that deploys the platform (``cdk.json`` runs ``python -m infrastructure.app``)."""
