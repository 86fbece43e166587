"""Retry schedule of failed inbox events."""
BASE_SECONDS = 60
CAP_SECONDS = 6 * 3600
MAX_ATTEMPTS = 8


def retry_delay(attempts, base=BASE_SECONDS, cap=CAP_SECONDS):
    """Seconds to wait after the ``attempts``-th failure (1, 2, ...): base * 2^(n-1), capped."""
    if attempts < 1:
        return 0
    return min(cap, base * 2 ** (attempts - 1))


def should_retry(attempts, max_attempts=MAX_ATTEMPTS):
    """After this many failures the event stays ``failed`` until retried by hand."""
    return attempts < max_attempts
