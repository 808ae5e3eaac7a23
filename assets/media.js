// Media in the browser: attach (paperclip, drag-and-drop, paste) with a preview and caption,
// uploads with progress, cancel and retry (XHR straight to /api/v1/media/upload, so the file
// never passes through Reflex's state), voice notes with MediaRecorder, and the photo viewer.
// After an upload the server's answer names the media; the hidden #media-send button hands it
// to the Reflex state, which sends the message (chat_web/states/media.py).
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

  // --- sending an uploaded file ------------------------------------------------------------
  function sendMessage(media, caption, chat) {
    window.__mediaPayload = JSON.stringify({
      chatId: chat,
      mediaId: media.mediaId,
      kind: media.kind,
      caption: caption || "",
      tempId: crypto.randomUUID ? crypto.randomUUID() : String(Date.now() + Math.random()),
    });
    document.getElementById("media-send")?.click();
  }

  // --- uploads -----------------------------------------------------------------------------
  function upload(file, name, caption, chat) {
    const row = el("div", { className: "upload-row", dataset: { testid: "upload-row" } });
    const label = el("span", { className: "upload-name", textContent: name });
    const bar = el("progress", { max: 100, value: 0, dataset: { testid: "upload-progress" } });
    bar.setAttribute("aria-label", word("uploading").replace("{name}", name));
    const cancel = el("button", {
      type: "button", className: "upload-cancel", textContent: word("cancel"),
      dataset: { testid: "upload-cancel" },
    });
    // The local picture shows at once, while the bytes travel.
    const local = file.type?.startsWith("image/") ? URL.createObjectURL(file) : "";
    if (local) row.append(el("img", { src: local, alt: "", className: "upload-thumb" }));
    row.append(label, bar, cancel);
    tray().append(row);

    const xhr = new XMLHttpRequest();
    const query = new URLSearchParams({ chatId: chat, filename: name });
    xhr.open("POST", `/api/v1/media/upload?${query}`);
    xhr.setRequestHeader("Content-Type", "application/octet-stream");
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) bar.value = Math.round((100 * e.loaded) / e.total);
    };
    xhr.onloadend = () => { if (local) URL.revokeObjectURL(local); };
    xhr.onload = () => {
      let body = {};
      try { body = JSON.parse(xhr.responseText); } catch { /* not JSON: a proxy's page */ }
      if (xhr.status === 201 && body.mediaId) {
        row.remove();
        sendMessage(body, caption, chat);
      } else {
        failed(body.message || word("upload_failed").replace("{name}", name));
      }
    };
    xhr.onerror = () => failed(word("upload_failed").replace("{name}", name));
    xhr.onabort = () => row.remove();
    cancel.onclick = () => xhr.abort();
    xhr.send(file);

    // A failed upload keeps its row with the reason, a retry and a dismiss: nothing is lost.
    function failed(message) {
      row.replaceChildren(
        el("span", { className: "upload-error", role: "alert", textContent: message }),
        el("button", {
          type: "button", className: "upload-retry", textContent: word("retry"),
          dataset: { testid: "upload-retry" },
          onclick: () => { row.remove(); upload(file, name, caption, chat); },
        }),
        el("button", { type: "button", textContent: word("cancel"), onclick: () => row.remove() }),
      );
    }
  }

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
      files.forEach((file, i) => upload(file, file.name || "file", i === 0 ? text : "", chat));
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
      upload(blob, `voice-message.${ext}`, "", chat);
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

  // --- the photo viewer --------------------------------------------------------------------
  let viewer = null;

  function openViewer(opener) {
    const all = [...document.querySelectorAll("[data-testid=message-list] .media-open")];
    let index = Math.max(0, all.indexOf(opener));
    const image = el("img", { className: "viewer-image", dataset: { testid: "photo-viewer-image" } });
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
    const show = () => {
      const item = all[index];
      image.src = item.dataset.full;
      image.alt = item.querySelector("img")?.alt || "";
      download.href = item.dataset.full;
      download.setAttribute("download", "");
      prev.disabled = index === 0;
      next.disabled = index === all.length - 1;
    };
    prev.onclick = () => { if (index > 0) { index -= 1; show(); } };
    next.onclick = () => { if (index < all.length - 1) { index += 1; show(); } };
    const node = el("div", { className: "photo-viewer", role: "dialog",
                             dataset: { testid: "photo-viewer" } }, [
      el("div", { className: "viewer-bar" }, [download, close]),
      prev, image, next,
    ]);
    node.setAttribute("aria-modal", "true");
    node.setAttribute("aria-label", word("photo"));
    close.onclick = () => closeViewer();
    node.onclick = (e) => { if (e.target === node) closeViewer(); };
    viewer = { node, opener, prev, next };
    show();
    document.body.append(node);
    close.focus();
  }

  function closeViewer() {
    if (!viewer) return;
    viewer.node.remove();
    viewer.opener.focus?.();
    viewer = null;
  }

  document.addEventListener("click", (event) => {
    const opener = event.target.closest?.(".media-open");
    if (opener) openViewer(opener);
  });
  document.addEventListener("keydown", (event) => {
    if (!viewer) return;
    if (event.key === "Escape") closeViewer();
    else if (event.key === "ArrowLeft") viewer.prev.click();
    else if (event.key === "ArrowRight") viewer.next.click();
  });
})();
