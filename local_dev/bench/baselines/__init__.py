"""Baselines the platform is measured against: the smallest programs doing the same job.

- ``hello``: a minimal FastAPI + Mangum handler (the floor of any FastAPI Lambda);
- ``hello_dynamodb``: the same, reading one DynamoDB item through boto3 (the floor of an endpoint
  that touches DynamoDB);
- ``bare_webhook``: a FastAPI app whose webhook endpoint makes a run's two DynamoDB writes and
  nothing else (the floor of the local server's webhook throughput).

They are run in fresh processes by path (``sys.path`` gets this folder), so they import nothing
of the platform or of the benchmark.
"""
