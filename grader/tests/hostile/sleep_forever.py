"""Never finishes importing: sleeps forever at import (no CPU used, so only the wall clock can stop
it), with SIGTERM, SIGINT and SIGALRM ignored."""
import signal
import time

for _sig in (signal.SIGTERM, signal.SIGINT, signal.SIGALRM, signal.SIGHUP):
    signal.signal(_sig, signal.SIG_IGN)
while True:
    time.sleep(3600)
