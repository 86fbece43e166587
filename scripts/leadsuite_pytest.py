"""pytest plugin used by scripts/test next to pytest-odoo.

Odoo's own test runner flags the thread that runs tests (``testing``); code
such as crm's lead assignment checks it to avoid committing. pytest-odoo does
not (and loading the registry resets it), so this plugin sets it before each
test run by scripts/test, ours and crm's.
"""
import threading


def pytest_runtest_setup(item):
    threading.current_thread().testing = True


def pytest_runtest_call(item):
    # the session's first test loads the registry during its setup, which resets
    # the flag set above: set it again before the test body runs
    threading.current_thread().testing = True
