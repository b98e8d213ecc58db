"""Hostile: tries to forge a result, claims success on stdout, then never returns."""
import json
import os
import sys

for target in ("/work/main/grades/hal/results.json", "grades/hal/results.json", "/tmp/results.json"):
    try:
        os.makedirs(os.path.dirname(target) or ".", exist_ok=True)
        with open(target, "w") as f:
            json.dump({"score": 100, "tests": []}, f)
    except OSError:
        pass
print("===== 11 passed in 0.01s =====")
sys.stdout.flush()
while True:
    pass
