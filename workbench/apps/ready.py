"""Sessions built ahead: the planner who opens a page gets one that is already built.

Bokeh builds a browser session when the browser asks for the page's HTML: the page's queries
(cached while the warehouse is unchanged), its figures, its Panel layout and their Bokeh models,
about 0.3 s on 2 cores. The browser waits for all of it before it can even fetch Bokeh's
JavaScript, whose start-up (another 0.3 s) cannot begin earlier. ``workbench serve`` therefore
keeps one session of each recently asked view (the path and its query, which is the page's
state) built ahead, as Voilà's preheated kernels do for notebooks: the HTML answers at once, the
browser starts on the JavaScript, and the document is ready when its websocket asks for it.

A ready session is handed out only while the data it shows is current: the page's tables and
every table its tiles and cached queries read have the signatures they had when it was built
(:meth:`workbench.apps.shell.PageShell.is_current`, the check the page's own refresh runs).
Otherwise it is dropped and the page is built for the request, as without this module. The next
ready session of a view is built a moment after one is handed out, once the pages opened last
have had the server for their documents and their sections below the first screen. Ready
sessions older than half their token's lifetime (an hour) are rebuilt, so a handed-out token is
never about to expire.

Two things keep the server out of the browser's way once a ready session is handed out:

- its sections below the first screen are built with it (:meth:`PageShell.prepare
  <workbench.apps.shell.PageShell.prepare>`), so the browser's "first screen drawn" only sends
  them, instead of holding the server for their figures while the browser is still painting;
- garbage is collected while the server is quiet, before each build (:func:`collect_garbage`):
  a full collection takes 0.1-0.4 s and otherwise falls inside a visit;
- its document is serialized when it is built (:class:`PulledAhead`), so the browser's pull of
  the document is answered at once instead of after 50-100 ms of Bokeh's serializer, while the
  browser waits with nothing to do. Changes made to the document after (the "data checked"
  stamp when it is handed out) are applied to that copy; any other change, or one the copy cannot
  take as it is, makes the pull serialize the document as Bokeh always does.

Sessions carry the request's cookies and headers, so with authentication on none are built ahead
(:func:`install` is then not called).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import math
import time
import weakref
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from workbench.apps import scripts

log = logging.getLogger(__name__)

#: Seconds the server must have been quiet (every page opened last has sent all its sections)
#: before a ready session is built: visits in quick succession (a control room at shift start)
#: are never slowed by one, which would hold the server for ~0.3 s.
REFILL_DELAY_S = 2.0
#: Longest wait [s] for the pages opened last to have every section sent before a build.
SETTLE_MAX_S = 6.0
#: Views (path + query) kept ready, most recently asked first.
MAX_VIEWS = 16
#: Seconds between checks that ready sessions are current and their tokens young.
CHECK_EVERY_S = 10.0

#: Least lifetime of a ready session's token [s]; a ready session is rebuilt at half of it.
TOKEN_LIFETIME_S = 3600.0
#: Response header of a page's HTML: ``ready`` (a session built ahead) or ``built`` (for it).
SESSION_HEADER = "X-Workbench-Session"
#: The page shell of each document built by :func:`workbench.apps.shell.page_factory`.
SHELLS: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


def view_key(request: Any) -> tuple[str, tuple[tuple[str, tuple[bytes, ...]], ...]] | None:
    """The view a request asks for (path and query), or None when it names a session itself."""
    if "Bokeh-Session-Id" in request.headers:
        return None
    args = request.arguments or {}
    if any(k.startswith("bokeh-") for k in args):
        return None
    return request.path.rstrip("/") or "/", tuple(sorted((k, tuple(v)) for k, v in args.items()))


@dataclass
class _Ready:
    session: Any
    built: float


#: Attribute values that Bokeh serializes as themselves (a NaN or an infinity is not one)
_PLAIN = (str, bool, int, type(None))


class PulledAhead:
    """A document's pull reply, serialized ahead and kept equal to the document.

    Made when a ready session is built (the server is quiet then); :meth:`reply` answers the
    browser's ``PULL-DOC-REQ`` with it, or returns None when the copy may differ from the
    document: the document then is serialized for the pull as Bokeh does. A change of one plain
    attribute (a string, a number, a flag) of a model in the copy is written into it; any other
    change (new models, data, a list, a date) marks the copy out of date. Panel rewrites the
    stylesheet URLs of a page when it renders its HTML without telling the document's listeners,
    so they are rewritten here first as the HTML will, and checked against the copy at the pull.
    """

    def __init__(self, doc: Any) -> None:
        from panel.io.server import LOCAL_DIST
        from panel.io.state import set_curdoc, state

        with set_curdoc(doc):  # as panel.io.server.server_html_page_for_session does
            dist_url = f"{state.rel_path}/{LOCAL_DIST}" if state.rel_path else LOCAL_DIST
            scripts.patch_document_css(doc, dist_url)
        self.doc = doc
        self.serialized = doc.to_json()
        self.attributes: dict[str, dict[str, Any]] = {}  # model id -> its serialized attributes
        _index(self.serialized.content, self.attributes)
        self.current = True
        doc.on_change(self._changed)

    def _changed(self, event: Any) -> None:
        from bokeh.document.events import DocumentPatchedEvent, ModelChangedEvent

        if not self.current or not isinstance(event, DocumentPatchedEvent):
            return  # a session callback added or removed: not in the document's JSON
        new = getattr(event, "new", None)
        model_id = getattr(getattr(event, "model", None), "id", None)
        plain = isinstance(new, _PLAIN) or (isinstance(new, float) and math.isfinite(new))
        if isinstance(event, ModelChangedEvent) and plain and model_id in self.attributes:
            self.attributes[model_id][event.attr] = new
        else:
            log.debug("document changed (%s): its pull is serialized anew", type(event).__name__)
            self.current = False

    def drop(self) -> None:
        """Stop following the document."""
        self.doc.remove_on_change(self._changed)

    def reply(self, request: Any) -> Any | None:
        """The ``PULL-DOC-REPLY`` to ``request`` from the copy, or None when it may differ
        from the document. Once only: the copy then stops following the document."""
        from bokeh.protocol.messages.pull_doc_reply import pull_doc_reply

        self.drop()
        copied = self.attributes
        if not self.current or any(
            copied.get(sheet.id, {}).get("url") != sheet.url
            for sheet in scripts.stylesheets(self.doc)
        ):
            return None
        header = pull_doc_reply.create_header(request_id=request.header["msgid"])
        message = pull_doc_reply(header, {}, {"doc": self.serialized.content})
        message.add_buffers(*self.serialized.buffers)
        return message


def _index(node: Any, out: dict[str, dict[str, Any]]) -> None:
    """Every serialized model's attributes under ``node``, by id."""
    if isinstance(node, dict):
        if node.get("type") == "object" and "id" in node:
            out[node["id"]] = node.setdefault("attributes", {})
        for value in node.values():
            _index(value, out)
    elif isinstance(node, list):
        for value in node:
            _index(value, out)


@dataclass
class _Recipe:
    """What building a session of a view needs: the app's context and an asking request."""

    context: Any
    app: Any
    request: Any
    payload: dict[str, Any]


@dataclass
class ReadySessions:
    """One ready session per recently asked view; see the module docstring."""

    ready: dict[Any, _Ready] = field(default_factory=dict)
    pulls: dict[str, PulledAhead] = field(default_factory=dict)  # by session id
    recipes: OrderedDict[Any, _Recipe] = field(default_factory=OrderedDict)
    opened: list[tuple[Any, float]] = field(default_factory=list)  # (shell ref, when)
    _timer: Any = None
    _checker: Any = None
    _building: bool = False

    def take(self, key: Any) -> Any | None:
        """The ready session of view ``key`` when its data is current (it is then no longer
        ready: the next is built later), else None."""
        got = self.ready.pop(key, None)
        if got is None:
            log.debug("no ready session of %s", key)
            return None
        session = got.session
        shell = SHELLS.get(session.document)
        if shell is None or not shell.is_current():
            log.debug("the ready session of %s is stale: dropped", key)
            _release(session)
            return None
        shell.stamp()  # the data was just checked: say so
        # it may now expire like any session; give the browser time to connect first
        asyncio.get_running_loop().call_later(30.0, _release, session)
        return session

    def asked(self, key: Any, handler: Any, session: Any) -> None:
        """Remember how to build view ``key`` and build its next ready session soon, when
        ``session`` is a dashboard page that drew data (a message, such as "no data yet", is
        built for each request: it may be gone by the next)."""
        shell = SHELLS.get(session.document)
        if shell is None or shell.read_signature is None:  # not a page, or it drew no data
            return
        payload = handler.token_payload()
        now = time.monotonic()
        self.opened = [(ref, t) for ref, t in self.opened if now - t < SETTLE_MAX_S]
        self.opened.append((weakref.ref(shell), now))
        self.recipes[key] = _Recipe(
            handler.application_context, handler.application, handler.request, payload
        )
        self.recipes.move_to_end(key, last=False)
        while len(self.recipes) > MAX_VIEWS:
            old, _ = self.recipes.popitem()
            if old in self.ready:
                _release(self.ready.pop(old).session)
        self._schedule(REFILL_DELAY_S)
        if self._checker is None:
            from tornado.ioloop import PeriodicCallback

            self._checker = PeriodicCallback(self._check, CHECK_EVERY_S * 1000)
            self._checker.start()

    def _schedule(self, delay: float) -> None:
        loop = asyncio.get_running_loop()
        if self._timer is not None:
            self._timer.cancel()  # a newer request: wait for the server to be quiet again
        self._timer = loop.call_later(delay, lambda: asyncio.ensure_future(self.refill()))

    def _check(self) -> None:
        """Drop ready sessions that are stale or whose token is past half its lifetime."""
        now = time.monotonic()
        for key, got in list(self.ready.items()):
            shell = SHELLS.get(got.session.document)
            lifetime = token_lifetime(self.recipes[key].app) if key in self.recipes else 0
            if shell is None or now - got.built > lifetime / 2 or not shell.is_current():
                _release(self.ready.pop(key).session)
        if any(k not in self.ready for k in self.recipes):
            self._schedule(0.0)

    async def refill(self) -> None:
        """Build a ready session for every remembered view that has none (one at a time)."""
        if self._building:
            return
        self._building = True
        try:
            await self._settle()
            collect_garbage()
            for key in list(self.recipes):
                if key in self.ready or key not in self.recipes:
                    continue
                try:
                    session = await self._build(self.recipes[key])
                except Exception:  # the page is then built per request, which shows the error
                    log.error("could not build a ready session of %s", key, exc_info=True)
                    self.recipes.pop(key, None)
                    continue
                shell = SHELLS.get(session.document)
                if shell is not None:
                    shell.prepare()  # its sections below the first screen, built now
                if shell is None or shell.read_signature is None:  # drew a message: not kept
                    self.recipes.pop(key, None)
                    _release(session)
                elif key in self.recipes and key not in self.ready:
                    log.debug("built a ready session of %s", key)
                    self.ready[key] = _Ready(session, time.monotonic())
                    self.pulls[session.id] = PulledAhead(session.document)
                else:
                    _release(session)
                await asyncio.sleep(0)  # let waiting requests in between two builds
        finally:
            self._building = False
        if any(k not in self.ready for k in self.recipes):  # asked for while this one built
            self._schedule(REFILL_DELAY_S)

    async def _settle(self) -> None:
        """Wait until the pages opened last have sent every section, and their last messages
        have had REFILL_DELAY_S to leave (at most SETTLE_MAX_S after they were opened)."""
        while True:
            now = time.monotonic()
            waits = [0.0]
            for ref, opened in self.opened:
                shell = ref()
                if shell is None or now - opened >= SETTLE_MAX_S:
                    continue
                done = shell.settled_at
                left = SETTLE_MAX_S - (now - opened)
                waits.append(min(left, 0.25 if done is None else done + REFILL_DELAY_S - now))
            wait = max(waits)
            if wait <= 0:
                return
            await asyncio.sleep(wait)

    async def _build(self, recipe: _Recipe) -> Any:
        from bokeh.util.token import generate_jwt_token, generate_session_id

        app = recipe.app
        session_id = generate_session_id(secret_key=app.secret_key, signed=app.sign_sessions)
        token = generate_jwt_token(
            session_id,
            secret_key=app.secret_key,
            signed=app.sign_sessions,
            expiration=token_lifetime(app),
            extra_payload=recipe.payload,
        )
        session = await recipe.context.create_session_if_needed(session_id, recipe.request, token)
        session.block_expiration()  # unused sessions expire after seconds; this one waits
        return session


def collect_garbage() -> None:
    """Collect every generation now, while the server is quiet, and freeze what survives.

    A full collection walks every object the server holds (Bokeh and Panel models of every
    session, caches, the libraries), 0.1-0.4 s on 2 cores; left to the automatic schedule it
    falls inside a visit as often as not. Frozen objects are out of the automatic collections,
    so those then walk only what was made since; the next quiet moment unfreezes and collects
    everything again, so no garbage outlives it.
    """
    t0 = time.perf_counter()
    gc.unfreeze()
    gc.collect()
    gc.freeze()
    log.debug("collected garbage in %.3f s; %d objects frozen", time.perf_counter() - t0,
              gc.get_freeze_count())  # fmt: skip


def token_lifetime(app: Any) -> float:
    """Seconds a ready session's token is valid: Bokeh's session-token lifetime, at least
    TOKEN_LIFETIME_S (the server runs without auth: the token guards nothing a browser could
    not get by opening the page)."""
    return max(float(app.session_token_expiration), TOKEN_LIFETIME_S)


def _release(session: Any) -> None:
    """Let a ready session expire like any unused one (handed out: once the browser had time to
    connect; dropped: with the other unused sessions)."""
    pulled = POOL.pulls.pop(session.id, None)
    if pulled is not None:
        pulled.drop()
    if session.expiration_blocked:
        session.unblock_expiration()


POOL = ReadySessions()


async def prime(base: str, paths: list[str]) -> None:
    """Ask this server for each page once, as a browser would, so that each page's default view
    is kept ready from the start (the session built for this request is never connected and
    expires with the unused ones)."""
    from tornado.httpclient import AsyncHTTPClient

    client = AsyncHTTPClient()
    for path in paths:
        response = await client.fetch(base + path, raise_error=False, request_timeout=120)
        if response.code != 200:
            log.warning("could not prepare %s%s: HTTP %s", base, path, response.code)


@contextmanager
def install() -> Iterator[ReadySessions]:
    """Serve Panel's page requests through :data:`POOL` while the block runs.

    Panel routes every app's page (``/<app>``) to its ``DocHandler`` through Bokeh's
    ``per_app_patterns``, as Panel itself patches Bokeh's; this swaps in a subclass whose
    :meth:`get_session` hands out a ready session when there is a current one.
    """
    from bokeh.server.session import ServerSession
    from bokeh.server.urls import per_app_patterns
    from panel.io.server import DocHandler

    class ReadyDocHandler(DocHandler):
        def token_payload(self) -> dict[str, Any]:
            return self._generate_token_payload()

        async def get_session(self) -> Any:
            key = view_key(self.request)
            session = POOL.take(key) if key is not None else None
            self.set_header(SESSION_HEADER, "built" if session is None else "ready")
            if session is None:
                session = await super().get_session()
            if key is not None:
                POOL.asked(key, self, session)
            return session

    full_pull = ServerSession._handle_pull

    def handle_pull(session: Any, message: Any, connection: Any) -> Any:
        pulled = POOL.pulls.pop(session.id, None)
        reply = pulled.reply(message) if pulled is not None else None
        if reply is None:
            return full_pull(session, message, connection)
        log.debug("pull of session %s answered from its copy made ahead", session.id)
        return _done(reply)

    saved = list(per_app_patterns)
    per_app_patterns[:] = [
        (p, ReadyDocHandler) if h is DocHandler else (p, h) for p, h in per_app_patterns
    ]
    ServerSession._handle_pull = handle_pull
    try:
        yield POOL
    finally:
        per_app_patterns[:] = saved
        ServerSession._handle_pull = full_pull


async def _done(value: Any) -> Any:
    return value
