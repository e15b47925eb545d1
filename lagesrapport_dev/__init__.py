"""Development tools beside the package, not part of it (not in the wheel): example and benchmark
report generators, fill helpers for tests, drivers for LibreOffice and headless chromium, the web
client and the load test. Used by tests/ and scripts/, which put the repository on sys.path.
"""
