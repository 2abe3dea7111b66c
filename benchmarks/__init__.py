"""Scale data generator and benchmark runner (``make bench``); not run by CI as timed tests."""
