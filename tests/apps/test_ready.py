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
