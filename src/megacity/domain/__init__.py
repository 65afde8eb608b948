"""The business of a citizen hotline, in plain Python.

Nothing here imports a framework, a database driver or the web stack: a reader learns
what a request (诉求/工单) is, which transitions are legal, how deadlines are counted and how
a city is organised from this package alone.
"""
