"""Thin Celery wrappers: each task takes ids or keys and calls one domain function."""

from celery import shared_task


@shared_task(acks_late=True)
def ping(message: str = "pong") -> str:
    """Echo a message back: proves the broker-to-worker-to-result round trip."""
    return message
