"""The web organizer: server-rendered pages of the node's state, served by the daemon.

Theory of operation. The daemon's one HTTP socket serves the API under
``/api/`` and these pages everywhere else (:class:`~samoorg.node.web.guard.Front`).
Pages read the same in-memory views as the API, through the same builders
(``node/api/routes.py``'s ``*_of``/``*_body`` readers and
``node/api/shapes.py``), so a page shows exactly what ``GET /api/v1/...``
answers; forms write through the node's write actions, the one write path
(``node/writer.py``). HTML is rendered by Jinja2 templates with autoescaping
(:mod:`~samoorg.node.web.render`); a few lines of JavaScript
(``static/live.js``) refresh marked sections from the event stream, and every
page reads the same without it. ``samoorg web`` prints a one-time login link
(:mod:`~samoorg.node.web.sessions`); the guard refuses everything without
the session cookie, POSTs without our ``Origin``, and forms without the
session's CSRF token.

How to add a page (say ``pledges``, already in the navigation):

1. **Route.** ``node/web/pages/pledges.py`` exports ``ROUTES``, a list of
   Starlette routes: ``Route("/pledges", pledges)`` for the page and
   ``Route("/pledges/intend", intend, methods=["POST"])`` per form. The
   page module of every :data:`~samoorg.node.web.site.NAV` entry is loaded
   by name; a new navigation entry is one ``NavEntry`` line there (and its
   ``common.nav_<name>`` message).
2. **Read.** ``ctx = context(request)`` gives the daemon's
   :class:`~samoorg.node.api.routes.ApiContext`; read with the API's readers
   and shapes (``shapes.jsonable`` turns times and bytes into the API's JSON
   text), and page long lists with ``page_request``/``page_of`` like the API.
3. **Template.** ``templates/pledges.html`` extends ``base.html``
   (``{% block title %}``, ``{% block content %}``) and imports
   ``form_start``, ``field`` and ``refusal`` from ``_forms.html``. Render it
   with ``page(request, "pledges.html", values, active="pledges")``. Mark a
   section ``id="x" data-live="pledge."`` to refresh it live when entries of
   those kinds arrive (``action`` for inbox items, ``entry`` for any).
4. **Messages.** Every string goes through ``t("pledges.key")``: add the keys
   to ``messages/en/pledges.json`` and ``messages/ru/pledges.json`` (plural
   forms as ``{"one": ..., "other": ...}`` / ``{"one", "few", "many"}``,
   called with ``n=``). A test checks both languages and every key used.
5. **Amounts.** Show ``{{ totals|money }}`` (the API's ``{"EUR": "100.00"}``)
   or ``{{ minor|amount("EUR") }}``; read typed amounts with
   ``Amount.parse(text, currency)`` inside :func:`~samoorg.node.web.forms.attempt`
   so that a malformed one is refused next to its field. Never floats.
6. **A form's action.** ``form = await read_form(request)`` (checks the CSRF
   token); ``result = perform(request, "pledge.intend", body)`` (an action of
   the API's table by name, ``body`` the API's JSON fields) or
   ``result = act(request, pledges.commit, pledge=...)`` (an action function
   with typed arguments), both in :mod:`~samoorg.node.web.forms`; each returns
   the action's ``Done`` or a ``Refusal``. On a refusal render the page again
   with ``errors={"field": result.message}``, ``typed=form.values`` and
   ``status=result.status`` (the CLI's one-line reason; nothing was stored);
   on success put what the next view shows once in
   ``request.state.session.flash_once("page", {...})`` and
   ``return done("/pledges")`` (a 303 redirect).
   Derived values that cost the whole view (the inbox, the trust picture) go
   through :func:`~samoorg.node.web.site.remembered`.
7. **Test** it in the browser: ``tests/browser_fixtures.py`` (``web_node``,
   ``browser``, ``screenshot``), marked ``browser``.
"""
