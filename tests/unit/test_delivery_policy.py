from datetime import timedelta

from application.webhooks import DeliveryPolicy


def test_each_retry_waits_twice_as_long_as_the_one_before() -> None:
    policy = DeliveryPolicy(max_attempts=8, backoff_seconds=30)
    assert [policy.retry_after(n) for n in (1, 2, 3)] == [
        timedelta(seconds=30), timedelta(seconds=60), timedelta(seconds=120)]


def test_the_wait_between_tries_is_capped() -> None:
    policy = DeliveryPolicy(max_attempts=20, backoff_seconds=30, max_backoff_seconds=3600)
    assert policy.retry_after(12) == timedelta(hours=1)


def test_a_delivery_is_given_up_after_its_last_attempt() -> None:
    policy = DeliveryPolicy(max_attempts=3)
    assert policy.retry_after(2) is not None
    assert policy.retry_after(3) is None
