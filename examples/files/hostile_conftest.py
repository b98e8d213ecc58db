# A planted conftest: if a grader ran pytest inside the submission, this would mark every test
# as passed. The grader never takes it: only topic modules are read from a submission.
import pytest


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    report.outcome = "passed"
