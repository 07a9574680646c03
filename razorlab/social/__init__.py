"""Consumer-scale scenarios, one sub-package each.

* :mod:`razorlab.social.booking` — ticketing (BookMyShow): seat holds, payment, confirmation;
* :mod:`razorlab.social.messaging` — messaging (WhatsApp): delivery, receipts, offline queues;
* :mod:`razorlab.social.timelines` — timelines (Twitter): fan-out on write, on read, hybrid.

Import from the sub-package you need; this package loads none of them, so starting the chat
server does not pay for the timeline engine and the other way round.
"""

__all__ = ["booking", "messaging", "timelines"]


def __getattr__(name: str) -> object:
    """Load a scenario sub-package on first use (``razorlab.social.booking``, ...)."""
    if name in __all__:
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
