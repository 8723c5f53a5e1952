// Open the page's session connection and ask for its document before Bokeh's scripts run.
//
// Inlined at the top of each page's <head> by workbench/apps/scripts.py with the session's
// token. Bokeh opens its websocket and asks for the document (PULL-DOC-REQ) only once its
// ~2.6 MB of script has run; this asks while they load and run, so the document is here when
// Bokeh wants it. The socket is handed to Bokeh when it makes its own (the same URL and
// protocols): the messages that came before are replayed to it in their order, and its own
// PULL-DOC-REQ is answered with the reply already here (under its message id) instead of being
// sent. Anything else passes through untouched. A socket that closed before Bokeh asked is not
// handed over: Bokeh then opens its own, as without this script.
(() => {
  const token = __WB_TOKEN__;
  const Native = window.WebSocket;
  const loc = window.location;
  // as Bokeh's _get_ws_url and ClientConnection.connect make it
  const url = `${loc.protocol === "https:" ? "wss:" : "ws:"}//${loc.host}` +
    `${loc.pathname.replace(/\/+$/, "")}/ws${loc.search.length > 1 ? loc.search : ""}`;
  let ws;
  try {
    ws = new Native(url, ["bokeh", token]);
  } catch (e) {
    return;  // Bokeh will open its own and report what fails
  }
  ws.binaryType = "arraybuffer";
  const pullId = `wb-prefetch-${Math.random().toString(36).slice(2)}`;
  // frames as they came: [event, message index]; the reply's message index once known
  const frames = [];
  let message = -1, left = 0, replyAt = -1, replyDone = false;
  let proxy = null, bokehPull = null, released = false;

  // a Bokeh message is a header frame (JSON, with num_buffers), metadata, content, then a
  // header and a binary frame per buffer
  const incoming = (event) => {
    if (left === 0) {
      message += 1;
      const header = JSON.parse(event.data);
      left = 3 + 2 * (header.num_buffers || 0);
      if (header.msgtype === "ACK" && message === 0) {
        send(JSON.stringify({msgid: pullId, msgtype: "PULL-DOC-REQ"}), "{}", "{}");
      }
      if (header.reqid === pullId) replyAt = message;
    }
    left -= 1;
    frames.push([event, message]);
    if (message === replyAt && left === 0) replyDone = true;
    deliver();
  };
  const send = (...parts) => { for (const p of parts) ws.send(p); };

  // what Bokeh may be given now: everything before the reply; the reply (its header under
  // Bokeh's id) and what followed once Bokeh asked and the reply is whole
  const deliver = () => {
    if (proxy === null || proxy.onmessage == null) return;
    while (frames.length > 0) {
      const [event, index] = frames[0];
      if (index === replyAt || (replyAt >= 0 && index > replyAt)) {
        if (bokehPull === null || !replyDone) return;
        if (index === replyAt && !released) {
          const header = JSON.parse(event.data);
          header.reqid = bokehPull;
          frames[0] = [new MessageEvent("message", {data: JSON.stringify(header)}), index];
          released = true;
        }
      }
      proxy.onmessage(frames.shift()[0]);
    }
    if (released) ws.onmessage = (e) => proxy.onmessage(e);  // from now on, straight through
  };
  ws.onmessage = incoming;

  // Bokeh's side of the socket
  let outLeft = 0, swallow = false;
  const makeProxy = () => ({
    get readyState() { return ws.readyState; },
    get binaryType() { return ws.binaryType; },
    set binaryType(v) { ws.binaryType = v; },
    get url() { return ws.url; },
    get protocol() { return ws.protocol; },
    onopen: null, onmessage: null, onclose: null, onerror: null,
    send(data) {
      if (outLeft === 0 && typeof data === "string") {
        const header = JSON.parse(data);
        outLeft = 3 + 2 * (header.num_buffers || 0);
        swallow = header.msgtype === "PULL-DOC-REQ" && bokehPull === null;
        if (swallow) bokehPull = header.msgid;
      }
      outLeft -= 1;
      if (!swallow) ws.send(data);
      if (swallow && outLeft === 0) setTimeout(deliver, 0);  // a reply comes as an event
    },
    close(code, reason) { ws.close(code, reason); },
  });

  window.WebSocket = function (u, protocols) {
    const mine = proxy === null && u === url && Array.isArray(protocols) &&
      protocols[0] === "bokeh" && protocols[1] === token && ws.readyState <= Native.OPEN;
    if (!mine) return new Native(u, protocols);
    window.WebSocket = Native;
    proxy = makeProxy();
    const opened = () => { if (proxy.onopen != null) proxy.onopen(new Event("open")); };
    // Bokeh sets its handlers right after the constructor returns: call them after that
    queueMicrotask(() => {
      if (ws.readyState === Native.OPEN) { opened(); deliver(); } else ws.onopen = () => { opened(); deliver(); };
      ws.onclose = (e) => { if (proxy.onclose != null) proxy.onclose(e); };
      ws.onerror = (e) => { if (proxy.onerror != null) proxy.onerror(e); };
    });
    return proxy;
  };
  Object.assign(window.WebSocket, {CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3});
})();
