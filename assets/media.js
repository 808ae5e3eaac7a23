// Media in the browser: attach (paperclip, drag-and-drop, paste) with a preview and caption,
// uploads with progress, cancel and retry (XHR straight to /api/v1/media/upload, so the file
// never passes through Reflex's state), voice notes with MediaRecorder, and the full-screen
// viewer of the chat's photos and videos. Each upload's bubble is drawn by the Reflex state
// at once (pending, from the local copy); hidden buttons tell it how the upload goes, and
// #media-send hands it the server's media id to send the message (chat_web/states/media.py).
(() => {
  "use strict";

  // --- words (rendered by chat_web/components/media.py from the i18n catalogue) -----------
  function word(key) {
    const camel = key.replace(/_([a-z])/g, (_, c) => c.toUpperCase());
    return document.getElementById("media-strings")?.dataset[camel] ?? key;
  }

  function el(tag, props = {}, children = []) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(props)) {
      if (k === "dataset") Object.assign(node.dataset, v);
      else if (k in node && !k.startsWith("aria")) node[k] = v;
      else node.setAttribute(k, v);
    }
    for (const child of [].concat(children)) if (child) node.append(child);
    return node;
  }

  const chatId = () => {
    const parts = location.pathname.split("/").filter(Boolean);
    return parts[0] === "chats" && parts.length === 2 ? parts[1] : "";
  };

  function tray() {
    let node = document.getElementById("upload-tray");
    if (!node) {
      node = el("div", { id: "upload-tray", className: "upload-tray", "aria-live": "polite" });
      document.body.append(node);
    }
    return node;
  }

  // --- uploads, told to the Reflex state ---------------------------------------------------
  // The state draws each upload's bubble (chat_web/states/media.py); this script holds the
  // file, sends it, and reports what happens through hidden buttons with a JSON payload.
  function report(buttonId, payload) {
    window.__mediaPayload = JSON.stringify(payload);
    document.getElementById(buttonId)?.click();
  }

  const newTempId = () =>
    crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(16).slice(2)}`;

  // temp id -> { tempId, file, name, caption, chat, kind, duration, localUrl, xhr, mediaId }
  const uploads = new Map();
  const KEEP_LOCAL_MS = 60_000; // the local copy outlives the upload a while (a failed send)

  function guessKind(file) {
    // Only a guess for the bubble: the server judges the bytes when it answers.
    if (/^image\/(jpeg|png|gif|webp)$/.test(file.type || "")) return "image";
    if ((file.type || "").startsWith("video/")) return "video";
    return "document";
  }

  function startUpload(file, name, caption, chat, extra = {}) {
    const kind = extra.kind || guessKind(file);
    const entry = {
      tempId: newTempId(), file, name, caption, chat, kind,
      duration: extra.duration || 0,
      // The picture shows at once, from this tab's copy, while the bytes travel.
      localUrl: kind === "image" || kind === "video" ? URL.createObjectURL(file) : "",
      xhr: null, mediaId: "", progress: 0,
    };
    uploads.set(entry.tempId, entry);
    announce(entry);
    window.chatStickToBottom?.(); // the file's bubble is one's own send: show it (chat.js)
    transmit(entry);
  }

  function announce(entry) {
    report("media-start", {
      chatId: entry.chat, tempId: entry.tempId, kind: entry.kind, name: entry.name,
      size: entry.file?.size || 0, duration: entry.duration, localUrl: entry.localUrl,
      caption: entry.caption,
    });
  }

  function transmit(entry) {
    const xhr = new XMLHttpRequest();
    entry.xhr = xhr;
    entry.progress = 0;
    const query = new URLSearchParams({
      chatId: entry.chat, filename: entry.name, tempId: entry.tempId,
    });
    xhr.open("POST", `/api/v1/media/upload?${query}`);
    xhr.setRequestHeader("Content-Type", "application/octet-stream");
    xhr.upload.onprogress = (e) => {
      if (!e.lengthComputable) return;
      entry.progress = Math.round((100 * e.loaded) / e.total);
      paint(entry);
    };
    const failedText = () => word("upload_failed").replace("{name}", entry.name);
    xhr.onload = () => {
      if (entry.xhr !== xhr) return; // cancelled meanwhile
      entry.xhr = null;
      let body = {};
      try { body = JSON.parse(xhr.responseText); } catch { /* not JSON: a proxy's page */ }
      if (xhr.status === 201 && body.mediaId) {
        entry.mediaId = body.mediaId;
        entry.kind = body.kind || entry.kind; // the server's judgement
        send(entry);
        setTimeout(() => release(entry), KEEP_LOCAL_MS);
      } else {
        failed(entry, body.message || failedText());
      }
    };
    xhr.onerror = () => {
      if (entry.xhr !== xhr) return;
      entry.xhr = null;
      failed(entry, failedText());
    };
    xhr.send(entry.file);
  }

  function send(entry) {
    report("media-send", {
      chatId: entry.chat, tempId: entry.tempId, mediaId: entry.mediaId, kind: entry.kind,
      caption: entry.caption,
    });
  }

  function failed(entry, message) {
    report("media-failed", { chatId: entry.chat, tempId: entry.tempId, message });
  }

  // Sent: the bubble now shows the server's copy, so the file and its local URL can go (a
  // retry of a failed send needs only the media id). Not while its bubble still waits.
  function release(entry) {
    const waiting = document.querySelector(`[data-upload-cancel="${CSS.escape(entry.tempId)}"]`);
    if (waiting) { setTimeout(() => release(entry), KEEP_LOCAL_MS); return; }
    if (entry.localUrl) URL.revokeObjectURL(entry.localUrl);
    entry.file = null;
    entry.localUrl = "";
  }

  function paint(entry) {
    const selector = `[data-upload-progress="${CSS.escape(entry.tempId)}"]`;
    for (const bar of document.querySelectorAll(selector)) bar.value = entry.progress;
  }

  function cancel(tempId) {
    const entry = uploads.get(tempId);
    uploads.delete(tempId);
    if (entry?.xhr) {
      const xhr = entry.xhr;
      entry.xhr = null;
      xhr.abort(); // the server drops what it stored of it (by the temp id)
    }
    if (entry?.localUrl) URL.revokeObjectURL(entry.localUrl);
    report("media-cancel", { chatId: entry?.chat || chatId(), tempId });
  }

  function retry(tempId) {
    const entry = uploads.get(tempId);
    if (!entry || (!entry.file && !entry.mediaId)) {
      // The page was reloaded since: the file is no longer here to send.
      uploads.delete(tempId);
      report("media-cancel", { chatId: chatId(), tempId, gone: true });
      return;
    }
    announce(entry); // the same bubble, pending again
    if (entry.xhr) return; // still on its way (the bubble failed when the chat was left)
    if (entry.mediaId) send(entry);
    else transmit(entry);
  }

  // The bubble's buttons (chat_web/components/media.py) carry the temp id.
  document.addEventListener("click", (event) => {
    const cancelButton = event.target.closest?.("[data-upload-cancel]");
    if (cancelButton) { cancel(cancelButton.dataset.uploadCancel); return; }
    const retryButton = event.target.closest?.("[data-upload-retry]");
    if (retryButton) retry(retryButton.dataset.uploadRetry);
  });

  // --- the preview before sending ----------------------------------------------------------
  function openPanel(files) {
    const chat = chatId();
    if (!files.length || !chat) return;
    closePanel();
    const urls = [];
    const previews = files.map((file) => {
      const url = URL.createObjectURL(file);
      urls.push(url);
      if (file.type.startsWith("image/")) return el("img", { src: url, alt: file.name });
      if (file.type.startsWith("video/")) return el("video", { src: url, muted: true });
      return el("span", { className: "media-panel-file", textContent: `📄 ${file.name}` });
    });
    const caption = el("input", {
      type: "text", className: "media-caption", placeholder: word("caption"),
      dataset: { testid: "media-caption" },
    });
    caption.setAttribute("aria-label", word("caption"));
    const send = el("button", {
      type: "button", className: "media-panel-send", textContent: word("send"),
      dataset: { testid: "media-send-button" },
    });
    const cancel = el("button", { type: "button", textContent: word("cancel") });
    const panel = el("div", {
      id: "media-panel", className: "media-panel", role: "dialog",
      dataset: { testid: "media-panel" },
    }, [
      el("div", { className: "media-panel-previews" }, previews),
      el("div", { className: "media-panel-row" }, [caption, cancel, send]),
    ]);
    panel.setAttribute("aria-label", word("attach"));
    panel._urls = urls;
    send.onclick = () => {
      const text = caption.value.trim();
      closePanel();
      files.forEach((file, i) => startUpload(file, file.name || "file", i === 0 ? text : "", chat));
    };
    cancel.onclick = closePanel;
    caption.onkeydown = (e) => {
      if (e.key === "Enter" && !e.isComposing) { e.preventDefault(); send.click(); }
      if (e.key === "Escape") closePanel();
    };
    document.body.append(panel);
    caption.focus();
  }

  function closePanel() {
    const panel = document.getElementById("media-panel");
    if (!panel) return;
    for (const url of panel._urls || []) URL.revokeObjectURL(url);
    panel.remove();
  }

  document.addEventListener("change", (event) => {
    const input = event.target;
    if (!(input instanceof HTMLInputElement) || input.dataset.testid !== "attach-input") return;
    openPanel([...(input.files || [])]);
    input.value = ""; // choosing the same file again must fire again
  });

  document.addEventListener("paste", (event) => {
    const target = event.target;
    if (!(target instanceof HTMLElement) || target.dataset.testid !== "message-input") return;
    const files = [...(event.clipboardData?.files || [])];
    if (files.length) {
      event.preventDefault();
      openPanel(files);
    }
  });

  const hasFiles = (e) => [...(e.dataTransfer?.types || [])].includes("Files");
  document.addEventListener("dragover", (event) => {
    if (!hasFiles(event) || !event.target.closest?.(".conversation")) return;
    event.preventDefault();
    event.target.closest(".conversation").classList.add("is-drop-target");
  });
  document.addEventListener("dragleave", (event) => {
    if (event.target.classList?.contains("conversation")) {
      event.target.classList.remove("is-drop-target");
    }
  });
  document.addEventListener("drop", (event) => {
    const pane = event.target.closest?.(".conversation");
    if (!pane || !hasFiles(event)) return;
    event.preventDefault();
    pane.classList.remove("is-drop-target");
    openPanel([...event.dataTransfer.files]);
  });

  // --- voice notes -------------------------------------------------------------------------
  // Set at once when recording is asked for (the microphone answers later), so a second
  // press while it starts is a stop, not a second recording.
  let recording = null;
  const HOLD_MS = 400;

  async function startRecording(button) {
    const session = { send: true, chat: chatId(), recorder: null };
    recording = session;
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    } catch {
      recording = null;
      alert(word("mic_denied"));
      return;
    }
    if (recording !== session) { // stopped before the microphone was ready
      stream.getTracks().forEach((t) => t.stop());
      return;
    }
    const mime = ["audio/webm;codecs=opus", "audio/ogg;codecs=opus"].find(
      (m) => window.MediaRecorder?.isTypeSupported(m),
    );
    const recorder = new MediaRecorder(stream, mime ? { mimeType: mime } : {});
    const chunks = [];
    recorder.ondataavailable = (e) => e.data.size && chunks.push(e.data);
    const started = Date.now();
    const timer = el("span", { className: "voice-timer", textContent: "0:00",
                               dataset: { testid: "voice-timer" } });
    const canvas = el("canvas", { width: 120, height: 24, className: "voice-live-wave" });
    const cancel = el("button", { type: "button", textContent: word("cancel"),
                                  dataset: { testid: "voice-cancel" } });
    const stop = el("button", { type: "button", textContent: word("stop_and_send"),
                                dataset: { testid: "voice-send" } });
    const bar = el("div", { className: "voice-recording", role: "status" },
                   [el("span", { textContent: word("recording") }), timer, canvas, cancel, stop]);
    tray().append(bar);

    // A live waveform from the microphone's loudness.
    const audio = new AudioContext();
    const analyser = audio.createAnalyser();
    analyser.fftSize = 256;
    audio.createMediaStreamSource(stream).connect(analyser);
    const levels = new Uint8Array(analyser.fftSize);
    const history = [];
    const draw = () => {
      if (!recording) return;
      analyser.getByteTimeDomainData(levels);
      const peak = levels.reduce((m, v) => Math.max(m, Math.abs(v - 128)), 0) / 128;
      history.push(peak);
      if (history.length > 40) history.shift();
      const g = canvas.getContext("2d");
      g.clearRect(0, 0, canvas.width, canvas.height);
      g.fillStyle = "#008069";
      history.forEach((v, i) => {
        const h = Math.max(2, v * canvas.height);
        g.fillRect(i * 3, (canvas.height - h) / 2, 2, h);
      });
      const s = Math.floor((Date.now() - started) / 1000);
      timer.textContent = `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
      requestAnimationFrame(draw);
    };

    session.recorder = recorder;
    button.setAttribute("aria-pressed", "true");
    recorder.onstop = () => {
      const { send, chat } = session;
      stream.getTracks().forEach((t) => t.stop());
      audio.close();
      bar.remove();
      button.setAttribute("aria-pressed", "false");
      recording = null;
      if (!send || !chunks.length) return;
      const type = recorder.mimeType || "audio/webm";
      const blob = new Blob(chunks, { type });
      const ext = type.includes("ogg") ? "ogg" : "webm";
      const duration = (Date.now() - started) / 1000;
      startUpload(blob, `voice-message.${ext}`, "", chat, { kind: "voice", duration });
    };
    cancel.onclick = () => stopRecording(false);
    stop.onclick = () => stopRecording(true);
    recorder.start(250);
    requestAnimationFrame(draw);
  }

  function stopRecording(send) {
    if (!recording) return;
    recording.send = send;
    if (recording.recorder) recording.recorder.stop();
    else recording = null; // not started yet: startRecording lets the microphone go
  }

  // Click to start and click to send, or hold and release to send (as on WhatsApp).
  let press = null;
  const recordButton = (event) => event.target.closest?.("[data-testid=voice-record-button]");
  document.addEventListener("pointerdown", (event) => {
    const button = recordButton(event);
    if (!button || event.button !== 0) return;
    press = recording ? null : { at: Date.now() };
    if (press) startRecording(button);
  });
  document.addEventListener("pointerup", () => {
    if (press && recording && Date.now() - press.at >= HOLD_MS) stopRecording(true);
  });
  document.addEventListener("click", (event) => {
    const button = recordButton(event);
    if (!button) return;
    event.preventDefault();
    if (press) { press = null; return; } // this press started it (and a hold has sent it)
    if (recording) stopRecording(true);
    else startRecording(button); // keyboard: Enter or Space
  });

  // --- the viewer: the chat's photos and videos, full screen ------------------------------
  // Opened from a bubble or from the gallery at one item, it steps through the chat's photos
  // and videos as the server lists them (newest first, a page at a time): "previous" is
  // older, "next" newer. Inside a dialog (the gallery) it is put in that dialog, whose focus
  // trap and outside-click handling would otherwise fight it.
  let viewer = null;
  const VIEWER_PAGE = 50;

  async function mediaPage(chat, cursor) {
    const query = new URLSearchParams({ limit: String(VIEWER_PAGE) });
    query.append("kind", "image");
    query.append("kind", "video");
    if (cursor) query.set("cursor", cursor);
    const response = await fetch(`/api/v1/chats/${encodeURIComponent(chat)}/media?${query}`, {
      credentials: "same-origin",
    });
    if (!response.ok) throw new Error(`gallery: ${response.status}`);
    const page = await response.json();
    return {
      cursor: page.nextCursor || "",
      items: page.media.map((m) => ({
        mediaId: m.mediaId, kind: m.kind, alt: "",
        url: m.kind === "image" ? `${m.url}/full` : m.url,
        poster: m.kind === "video" ? m.thumbnailUrl || "" : "",
      })),
    };
  }

  function openViewer(opener) {
    const mediaId = opener.dataset.mediaId;
    const chat = chatId();
    if (!mediaId || !chat) return; // a file still on its way has no viewer
    closeViewer();
    const stage = el("div", { className: "viewer-stage" });
    const download = el("a", { className: "viewer-button", textContent: word("download"),
                               dataset: { testid: "photo-viewer-download" } });
    const prev = el("button", { type: "button", className: "viewer-button", textContent: "‹",
                                dataset: { testid: "photo-viewer-prev" } });
    const next = el("button", { type: "button", className: "viewer-button", textContent: "›",
                                dataset: { testid: "photo-viewer-next" } });
    const close = el("button", { type: "button", className: "viewer-button", textContent: "✕",
                                 dataset: { testid: "photo-viewer-close" } });
    prev.setAttribute("aria-label", word("previous"));
    next.setAttribute("aria-label", word("next"));
    close.setAttribute("aria-label", word("close"));
    const node = el("div", { className: "photo-viewer", role: "dialog",
                             dataset: { testid: "photo-viewer" } }, [
      el("div", { className: "viewer-bar" }, [download, close]),
      prev, stage, next,
    ]);
    node.setAttribute("aria-modal", "true");
    node.setAttribute("aria-label", word("viewer"));
    const state = {
      node, opener, prev, next, stage, download, chat, cursor: "", loading: false,
      index: 0,
      items: [{
        mediaId, kind: opener.dataset.kind || "image", url: opener.dataset.full,
        poster: opener.dataset.poster || "", alt: opener.querySelector("img")?.alt || "",
      }],
    };
    prev.onclick = () => older(state);
    next.onclick = () => newer(state);
    close.onclick = () => closeViewer();
    node.onclick = (e) => { if (e.target === node) closeViewer(); };
    viewer = state;
    show(state);
    (opener.closest(".rt-BaseDialogContent") || document.body).append(node);
    close.focus();
    locate(state);
  }

  function show(state) {
    const item = state.items[state.index];
    const shown = item.kind === "video"
      ? el("video", { src: item.url, poster: item.poster, controls: true, playsInline: true,
                      preload: "metadata", className: "viewer-video",
                      dataset: { testid: "photo-viewer-video" } })
      : el("img", { src: item.url, alt: item.alt, className: "viewer-image",
                    dataset: { testid: "photo-viewer-image" } });
    state.stage.replaceChildren(shown);
    state.download.href = item.url;
    state.download.setAttribute("download", "");
    buttons(state);
  }

  function buttons(state) {
    state.prev.disabled = state.index >= state.items.length - 1 && !state.cursor;
    state.next.disabled = state.index === 0;
  }

  // Find the opened item among the chat's media (paging back until it turns up).
  async function locate(state) {
    const wanted = state.items[state.index].mediaId;
    let items = [];
    let cursor = "";
    let found = -1;
    try {
      do {
        const page = await mediaPage(state.chat, cursor);
        items = items.concat(page.items);
        cursor = page.cursor;
        found = items.findIndex((item) => item.mediaId === wanted);
      } while (found < 0 && cursor);
    } catch {
      return; // offline: the one item still shows
    }
    if (viewer !== state || found < 0) return;
    items[found] = state.items[state.index]; // keep what is on screen (its alt text)
    Object.assign(state, { items, index: found, cursor });
    buttons(state);
  }

  async function older(state) {
    if (state.index >= state.items.length - 1) {
      if (!state.cursor || state.loading) return;
      state.loading = true;
      try {
        const page = await mediaPage(state.chat, state.cursor);
        state.items = state.items.concat(page.items);
        state.cursor = page.cursor;
      } catch {
        /* offline: stay here */
      } finally {
        state.loading = false;
      }
      if (viewer !== state || state.index >= state.items.length - 1) { buttons(state); return; }
    }
    state.index += 1;
    show(state);
  }

  function newer(state) {
    if (state.index === 0) return;
    state.index -= 1;
    show(state);
  }

  function closeViewer() {
    if (!viewer) return;
    const { node, opener } = viewer;
    viewer = null;
    node.remove(); // a playing video stops with it
    opener.focus?.();
  }

  document.addEventListener("click", (event) => {
    const opener = event.target.closest?.(".media-open");
    if (opener) openViewer(opener);
  });
  // Capturing on window runs before the dialog's own Escape handler (on document): Escape
  // closes the viewer, not the panel under it.
  window.addEventListener("keydown", (event) => {
    if (!viewer) return;
    if (event.key === "Escape") {
      event.stopPropagation();
      event.preventDefault();
      closeViewer();
    } else if (event.key === "ArrowLeft") viewer.prev.click();
    else if (event.key === "ArrowRight") viewer.next.click();
  }, true);
})();
