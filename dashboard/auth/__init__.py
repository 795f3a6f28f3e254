"""Sign-in, sessions, roles and the request guard (issue 6). Kept import-free: ``dashboard.i18n`` imports
``dashboard.auth.strings``, so this package's ``__init__`` must not import the i18n module back.

- ``passwords``: scrypt hashes, random passwords.
- ``users``: the ``app_user`` store (CLI and demo), lock-out bookkeeping.
- ``roles``: roles → permissions and pages; a user's data scope.
- ``session``: the signed-in ``Principal`` of a request (re-read from the database every few seconds).
- ``views``: the login and logout pages (a small Flask blueprint, server-rendered, no external assets).
- ``guard``: the ``before_request`` check on every route but the public ones.
- ``setup``: ``install(app, settings, engine)`` wires all of it into the Dash app.
"""
