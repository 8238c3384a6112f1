"""What a run's usage (``functions.core.usage``) costs: AWS's on-demand list prices, us-east-1, as
published in December 2026 on each service's pricing page (aws.amazon.com/lambda/pricing,
/dynamodb/pricing/on-demand, /sqs/pricing, /s3/pricing, /secrets-manager/pricing, /ses/pricing).

- Lambda, arm64 (the stack's architecture): $0.0000133334 per GB-second, $0.20 per million requests.
- DynamoDB on demand: $0.625 per million write request units, $0.125 per million read request units.
  A request is priced as one unit: a write of up to 1 KB, a strongly consistent read of up to 4 KB (an
  eventually consistent read is half a unit). A run record is usually under 1 KB; a larger one costs one
  unit per KB, so this is a floor for runs with large inputs or outputs.
- SQS standard queue: $0.40 per million requests (each 64 KB chunk of a message is a request).
- S3 Standard: $0.005 per 1,000 PUT requests, $0.0004 per 1,000 GET requests (storage, $0.023 per
  GB-month, is not per run and not counted).
- Secrets Manager: $0.05 per 10,000 API calls (the $0.40 per secret per month is not per run).
- SES: $0.10 per 1,000 emails.

Free tiers are ignored: this is what a run costs once they are used up. Other regions differ by a few
per cent; a request kind not listed here is shown, unpriced. Change ``PRICES`` for other prices.
"""

from __future__ import annotations

#: US dollars per unit of each usage key.
PRICES: dict[str, float] = {
    "lambda.gb_seconds": 0.0000133334,
    "lambda.invocations": 0.20 / 1e6,
    "dynamodb.writes": 0.625 / 1e6,
    "dynamodb.reads": 0.125 / 1e6,
    "sqs.requests": 0.40 / 1e6,
    "s3.writes": 0.005 / 1e3,
    "s3.reads": 0.0004 / 1e3,
    "secretsmanager.requests": 0.05 / 1e4,
    "ses.messages": 0.10 / 1e3,
}


def cost(usage: dict[str, float]) -> float:
    """US dollars, for the priced keys of ``usage``."""
    return sum(PRICES[key] * amount for key, amount in usage.items() if key in PRICES)


def dollars(amount: float) -> str:
    """A small amount readably: $0.0000021, $0.0042, $1.23."""
    if amount == 0:
        return "$0"
    if amount >= 0.01:
        return f"${amount:,.2f}"
    return f"${amount:.2g}" if amount < 1e-6 else f"${amount:.7f}".rstrip("0")
