"""Routing for smart dispatch (issue 4): where a request is, and which unit should handle it.

* :mod:`megacity.routing.gazetteer` — address text → street/town (profile division names + aliases);
* :mod:`megacity.routing.coords` — WGS-84 → GCJ-02, and lon/lat → district by its boundary;
* :mod:`megacity.routing.model` — the model dispatcher: classifier + location + catalogue rule;
* :mod:`megacity.routing.decisions` — the dispatch decision log and training labels from corrections;
* :mod:`megacity.routing.queue` — the human dispatch queue;
* :mod:`megacity.routing.disputes` — dispute statistics per category and unit;
* :mod:`megacity.routing.training` — (re)training the dispatch model from tickets and corrections.

See docs/dispatch.md.
"""
