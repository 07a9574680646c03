"""Messaging (WhatsApp scenario): durable, ordered delivery with honest ticks.

The names learners use come from :mod:`~razorlab.social.messaging.service`, which also runs
the chat server; each other module is one idea of the engine (models, directory, store,
presence, admission, connection, server, client, capacity, measure, plots, commands).
"""

from razorlab.social.messaging import service as _service
from razorlab.social.messaging.service import *  # noqa: F403  (its __all__ is the curated list)

__all__ = list(_service.__all__)
