"""Sessions built ahead (workbench.apps.ready): what they do before the browser asks."""

from __future__ import annotations

import gc
import weakref


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


def _plain(node):
    """A serialized document as comparable values: buffers as their bytes, no empty attributes."""
    from bokeh.core.serialization import Buffer

    if isinstance(node, Buffer):
        return bytes(node.data)
    if isinstance(node, dict):
        return {k: _plain(v) for k, v in node.items() if not (k == "attributes" and v == {})}
    if isinstance(node, list | tuple):  # a map's entries are (key, value) tuples
        return [_plain(v) for v in node]
    return node


def test_a_pull_answered_from_the_copy_made_ahead_is_the_document_as_it_is_then(
    dash_home, monkeypatch
):
    """The document serialized when a ready session is built follows the plain changes made
    after (the "data checked" stamp of the hand-out) and equals a fresh serialization at the
    pull; after a change it cannot follow (new data) it answers nothing, and Bokeh serializes."""
    import types

    from bokeh.document import Document
    from bokeh.models import ColumnDataSource
    from panel.io.state import set_curdoc

    from workbench.apps import ready, shell
    from workbench.apps.pages import load

    monkeypatch.setenv("WORKBENCH_HOME", str(dash_home))
    monkeypatch.setenv(shell.REFRESH_ENV, "0")
    doc = Document()
    with set_curdoc(doc):
        page_shell = shell.PageShell("load", load)
        doc.add_root(page_shell.layout.get_root(doc))
        pulled = ready.PulledAhead(doc)
        before = _plain(pulled.serialized.content)
        page_shell.stamp("UTC")  # as a hand-out does
        page_shell.stamp("America/Chicago")
    request = types.SimpleNamespace(header={"msgid": "m1"})
    reply = pulled.reply(request)
    assert reply is not None
    assert reply.header["reqid"] == "m1"
    fresh = doc.to_json()
    got = _plain(reply.content["doc"])
    assert got == _plain(fresh.content)
    assert got != before  # the stamp changed the document, and the copy with it
    assert len(reply.buffers) == len(fresh.buffers)

    again = ready.PulledAhead(doc)
    source = next(iter(doc.select({"type": ColumnDataSource})))
    source.data = {k: list(v)[:1] for k, v in source.data.items()}
    assert again.reply(request) is None
