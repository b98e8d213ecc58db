"""Attempts to end the process with status 0 before any check runs: os._exit(0) at import."""
import os

print("All checks passed.", flush=True)
os._exit(0)
