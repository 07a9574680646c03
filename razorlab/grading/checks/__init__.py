"""Self-check definitions, one module per exercise set (``payment_gateway.py`` …).

Each module registers its questions with ``@question(SET, "q1", covers=...)``;
``razorlab.grading.Checker`` imports the module named after the set on demand.
"""
