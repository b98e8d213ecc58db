"""Attempts to end grading early with success: sys.exit(0) at import."""
import sys

print("All checks passed.")
sys.exit(0)
