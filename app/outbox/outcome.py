"""What one attempt to deliver an outbox message came to, whatever the channel."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Outcome:
    """The answer of one attempt.

    ``delivered``: the receiver or provider took the message. Otherwise ``error`` says why, in
    one short line a tenant admin may read (never a secret, never more than a short excerpt of
    what the other side sent), and ``final`` tells whether trying again could help: a bad
    address, refused credentials, a 4xx, or an answer that never came after the message was
    handed over (it may have arrived: trying again could send it twice) are final.
    """

    delivered: bool = False
    status: int | None = None     # the other side's HTTP status or SMTP reply code, if any
    error: str | None = None
    final: bool = False
    reference: str | None = None  # the provider's id of the message (a Twilio SID, a wamid)
    reachable: bool = True        # False: nothing answered (connection refused, timeout)
    unsent: bool = False          # never tried: the channel is not configured, the person left
    address: str | None = None    # where it went, when not where the message was written for

    @classmethod
    def sent(cls, status: int | None = None, reference: str | None = None) -> "Outcome":
        return cls(delivered=True, status=status, reference=reference)

    @classmethod
    def not_sent(cls, reason: str) -> "Outcome":
        return cls(error=reason, final=True, unsent=True)

    @classmethod
    def failed(cls, error: str, status: int | None = None, final: bool = False,
               reachable: bool = True) -> "Outcome":
        return cls(status=status, error=error, final=final, reachable=reachable)
