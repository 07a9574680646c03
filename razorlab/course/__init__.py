"""Curriculum tooling: executing notebooks reproducibly and the generated curriculum map."""
