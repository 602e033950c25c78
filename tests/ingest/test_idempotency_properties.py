from __future__ import annotations

import uuid

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiwidesk.cases.models import Message
from kiwidesk.ingest.models import Receipt
from kiwidesk.ingest.services import ingest
from tests.ingest import inbound

# A delivery is (mailbox, Message-ID) drawn from small sets, so repeats are common.
deliveries = st.lists(st.tuples(st.sampled_from("ab"), st.integers(0, 4)), max_size=12)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(deliveries)
def test_any_order_of_redeliveries_stores_each_mail_once(
    db: None, sequence: list[tuple[str, int]]
) -> None:
    run = uuid.uuid4().hex  # examples share the database; each gets its own mailboxes and sender

    results = [
        ingest(
            inbound.email(
                f"{run}@example.org", source=f"{run}-{box}", external_id=f"<{n}@mail.example.org>"
            )
        )
        for box, n in sequence
    ]

    stored = Message.objects.filter(pk__in={r.message.pk for r in results})
    assert stored.count() == len(set(sequence))
    assert Receipt.objects.filter(source__startswith=run).count() == len(set(sequence))
    assert sum(not r.duplicate for r in results) == len(set(sequence))
