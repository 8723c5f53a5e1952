"""Sessions built ahead (workbench.apps.ready): what they do before the browser asks."""

from __future__ import annotations

import asyncio
import gc
import weakref
from concurrent.futures import ThreadPoolExecutor

import pytest


class _Node:
    pass


def test_a_quiet_collection_frees_garbage_frozen_by_the_last_one():
    """Each quiet moment unfreezes, collects and freezes again: a cycle that became garbage
    after it was frozen is freed by the next one, not kept for the server's lifetime."""
    from workbench.apps.ready import collect_garbage

    node = _Node()
    node.self = node
    ref = weakref.ref(node)
    gc.freeze()
    try:
        del node
        gc.collect()
        assert ref() is not None  # frozen: out of the automatic and explicit collections
        collect_garbage()
        assert ref() is None
        assert gc.get_freeze_count() > 0  # what survived is out of the next visit's way
    finally:
        gc.unfreeze()


def _run(coroutine):
    """Run ``coroutine`` to its end in a fresh event loop of its own thread (the browser tests'
    Playwright keeps a loop running in this one)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def _pull(session):
    """The reply to a browser's ``PULL-DOC-REQ`` on ``session``, and its document JSON."""
    from bokeh.protocol import Protocol

    class Connection:  # what ServerSession reads of a websocket connection on a pull
        protocol = Protocol()

    request = Protocol().create("PULL-DOC-REQ")
    reply = _run(session._handle_pull(request, Connection()))
    return reply, reply.content["doc"]


def _session():
    from bokeh.document import Document
    from bokeh.models import ColumnDataSource, Div
    from bokeh.server.session import ServerSession
    from tornado.ioloop import IOLoop

    doc = Document()
    div = Div(text="built ahead", name="stamp")
    doc.add_root(div)
    doc.add_root(ColumnDataSource({"x": list(range(5))}, name="data"))
    return ServerSession("s1", doc, IOLoop.current(), token="t"), div


def _texts(doc_json) -> dict[str, str]:
    return {
        r["attributes"]["name"]: r["attributes"].get("text")
        for r in doc_json["roots"]
        if "name" in r.get("attributes", {})
    }


def test_a_handed_out_session_answers_its_first_pull_with_the_json_made_ahead():
    from bokeh.core.serialization import Serializer

    from workbench.apps.ready import PreparedPull

    session, _ = _session()
    PreparedPull.install(session)
    prepared = session._handle_pull.__self__
    made = prepared.serialized
    assert made is not None
    reply, doc = _pull(session)
    assert reply.msgtype == "PULL-DOC-REPLY"
    assert doc is made.content  # the JSON made ahead, not made again
    fresh = session.document.to_json()
    assert Serializer().encode(doc) == Serializer().encode(fresh.content)
    assert _texts(doc) == {"stamp": "built ahead", "data": None}
    assert "_handle_pull" not in vars(session)  # later pulls as Bokeh makes them


def test_a_change_after_the_json_was_made_is_never_lost():
    """The document changed between its JSON being made and the browser's pull (a periodic
    check redrew it): the pull serialises the document as it is now."""
    from workbench.apps.ready import PreparedPull

    session, div = _session()
    PreparedPull.install(session)
    made = session._handle_pull.__self__.serialized
    # as a session callback changes it: holding the document's lock
    _run(session.with_document_locked(setattr, div, "text", "redrawn after"))
    _, doc = _pull(session)
    assert doc is not made.content
    assert _texts(doc)["stamp"] == "redrawn after"


@pytest.mark.parametrize("connected", [True, False])
def test_no_json_is_made_for_a_session_already_pulled_or_gone(connected):
    from workbench.apps.ready import PreparedPull

    session, _ = _session()
    if connected:
        session.subscribe(object())
    else:
        session.destroy()
    PreparedPull.install(session)
    assert "_handle_pull" not in vars(session)


def test_sections_below_the_first_screen_are_built_ahead_and_sent_on_load(dash_home, monkeypatch):
    """A session built ahead builds the sections below its first screen before any browser
    asks (``prepare``); the browser's document-ready only sends them, every one, in order."""
    import types

    from bokeh.document import Document
    from panel.io.state import set_curdoc, state

    from workbench.apps import shell
    from workbench.apps.pages import load

    monkeypatch.setenv("WORKBENCH_HOME", str(dash_home))
    monkeypatch.setenv(shell.REFRESH_ENV, "0")
    built: list[str] = []

    def iter_sections(data):
        for section in load.iter_sections(data):
            built.append(section.key)
            yield section

    page = types.SimpleNamespace(**{**vars(load), "iter_sections": iter_sections})
    doc = Document()
    monkeypatch.setitem(state._loaded, doc, False)  # served, not yet drawn by a browser
    with set_curdoc(doc):
        page_shell = shell.PageShell("load", page)
        shown = [o.css_classes for o in page_shell.body.objects]
        assert built == ["load-actual"]
        assert shown[-1] == ["wb-deferred"]
        page_shell.prepare()
        assert len(built) > 1
        assert built[0] == "load-actual"
        assert [o.css_classes for o in page_shell.body.objects] == shown  # built, not sent
        assert page_shell.summary.object == ""
        state._on_load(doc)  # the browser drew the first screen
    sent = [o.css_classes[0] for o in page_shell.body.objects]
    assert sent == built
    assert "points of actual load" in page_shell.summary.object
