"""Acknowledgements that cannot wedge a worker while Redis is away.

kombu's Redis transport acknowledges a message in two steps: it removes the message from
Redis's unacked index, then forgets it in the channel's own count of messages delivered and not
acknowledged, which its prefetch limit reads (`QoS.can_consume`). When the first step fails
(Redis restarting), the second never runs: the message counts as delivered for ever. A worker
whose chunks ended during an outage (2 with `--threads 2`) had its whole prefetch count taken
and never fetched again, though it kept beating and looked idle.

`TolerantAcks` makes the count forget the message whatever Redis says. What Redis may still
hold of it (a Redis restarted from its append-only file) is the visibility timeout's to put
back, and a chunk delivered again finds its jobs answered (cluster.py).
"""

from __future__ import annotations

import logging
from typing import Any

from celery import bootsteps
from kombu.transport import virtual

log = logging.getLogger(__name__)


def tolerate(qos: Any) -> None:
    """Make `qos` (a kombu Redis channel's) release its prefetch count even when Redis cannot
    be told of an acknowledgement or a rejection (idempotent)."""
    if getattr(qos, "_acefarm_tolerant", False):
        return
    redis_ack, redis_reject = qos.ack, qos.reject

    def ack(delivery_tag: Any) -> None:
        try:
            redis_ack(delivery_tag)
        except Exception as exc:
            log.warning("cannot acknowledge message %s in Redis (%s); releasing it here", delivery_tag, exc)
            virtual.QoS.ack(qos, delivery_tag)

    def reject(delivery_tag: Any, requeue: bool = False) -> None:
        try:
            redis_reject(delivery_tag, requeue=requeue)
        except Exception as exc:
            log.warning("cannot reject message %s in Redis (%s); releasing it here", delivery_tag, exc)
            virtual.QoS.ack(qos, delivery_tag)

    qos.ack, qos.reject = ack, reject
    qos._acefarm_tolerant = True


class TolerantAcks(bootsteps.StartStopStep):  # type: ignore[misc]  # celery is untyped
    """A consumer bootstep: `tolerate` the task channel's QoS (again after each reconnection,
    which makes a new channel)."""

    requires = ("celery.worker.consumer.tasks:Tasks",)

    def start(self, c: Any) -> None:
        tolerate(c.task_consumer.channel.qos)
