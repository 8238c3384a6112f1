"""The Idempotency-Key table and its store (``functions.core.idempotency`` says how keys work).

Imported on first use (``Platform.idempotency``): pynamodb brings botocore, which a request without the
header, or a cold start serving anything but a run, never needs.
"""

from __future__ import annotations

from datetime import timedelta

from pynamodb.attributes import TTLAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.exceptions import DoesNotExist
from pynamodb.models import Model

from functions.core.idempotency import Reservation, record_key
from functions.core.runs import utcnow
from functions.settings import Settings
from functions.stores.base import TableName, bind, conditionally, register


@register
class IdempotencyModel(Model):
    class Meta:
        # reserve: PutItem (conditional), then GetItem when the key is held; take_over: UpdateItem.
        table_name = TableName("idempotency_table", operations=("PutItem", "GetItem", "UpdateItem"))
        billing_mode = "PAY_PER_REQUEST"

    key = UnicodeAttribute(hash_key=True)
    workflow = UnicodeAttribute()
    fingerprint = UnicodeAttribute()
    run_id = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    expires_at = TTLAttribute()


class DynamoIdempotencyStore:
    def __init__(self, settings: Settings) -> None:
        bind(settings)
        self.ttl = timedelta(seconds=settings.idempotency_ttl_seconds)

    def reserve(self, workflow: str, key: str, print_: str, run_id: str) -> Reservation | None:
        """Reserve ``key`` for ``run_id``: None when reserved now, else the live reservation holding it."""
        now = utcnow()
        item = IdempotencyModel(record_key(workflow, key), workflow=workflow, fingerprint=print_, run_id=run_id,
                                created_at=now, expires_at=now + self.ttl)
        if conditionally(lambda: item.save(condition=IdempotencyModel.key.does_not_exist()
                                           | (IdempotencyModel.expires_at < now))):
            return None
        try:
            held = IdempotencyModel.get(record_key(workflow, key), consistent_read=True)
        except DoesNotExist:  # expired and deleted between the two calls: try once more
            return self.reserve(workflow, key, print_, run_id)
        return Reservation(held.key, held.run_id, held.fingerprint, held.created_at)

    def take_over(self, workflow: str, key: str, held: Reservation, run_id: str) -> bool:
        """Point a reservation whose run was never created (its request died) at a new run."""
        item = IdempotencyModel(record_key(workflow, key))
        return conditionally(lambda: item.update(actions=[IdempotencyModel.run_id.set(run_id)],
                                                 condition=IdempotencyModel.run_id == held.run_id))
