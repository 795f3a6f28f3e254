"""Alerts on the live state of the service: rules, evaluation and delivery (webhook, e-mail).

Where alerts are evaluated (``AlertService.evaluate``; every path runs the same function, and evaluations are
serialised in the database, so two never raise the same alert twice):
- after every ingest that stored events (debounced to once every few seconds per process, in a background thread):
  an outage report, a queue spike or a recovery is seen within seconds;
- on the live page's refresh tick (at most every 30 s per process, in a background thread): a web process with
  viewers notices hubs that went silent even when nothing is posted;
- by ``arogya alerts run`` (once, for cron or a systemd timer) or ``arogya alerts run --watch`` (a loop): the
  authoritative path, since "a hub stopped reporting" is the absence of events and needs a clock, not a request.
"""
