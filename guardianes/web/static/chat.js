// Guardianes web chat: posts what the guardian sends, long-polls what the bot sent.
// Plain script, no build, no external assets. Texts come from the page (web.po catalog).
"use strict";

(() => {
  const body = document.body;
  const T = JSON.parse(body.dataset.texts || "{}");
  const LOCALE = body.dataset.locale || "es";
  const API = "/chat/api/messages";
  const WAIT_SECONDS = 25;
  const RETRIES = 4;
  // The first visit starts the conversation once; the server scopes ids per browser.
  const START_ID = "00000000-0000-4000-8000-000000000001";
  const DEFAULT_CENTER = [-106.0889, 28.6353]; // Chihuahua, when no spaces are loaded

  const $ = (id) => document.getElementById(id);
  const log = $("log");
  const logWrap = log.parentElement;
  const errorBox = $("error");
  const statusBox = $("status");
  const textForm = $("text-form");
  const textInput = $("text");
  const locationPanel = $("location-panel");
  const photoPanel = $("photo-panel");
  const coords = $("coords");
  const locationStatus = $("location-status");
  const photoInput = $("photo-input");
  const map = $("map");

  let lastId = 0;
  let active = null; // the newest bot message that expects an answer: {id, prompt, item}
  const items = new Map(); // message id -> <li>
  const prompts = new Map(); // message id -> its prompt (to name a choice made elsewhere)
  let mineLastId = 0; // the newest of the person's own messages shown
  const sentIds = new Set([START_ID]); // posts made by this page: already on screen
  let sendQueue = Promise.resolve();

  const fmt = (text, values) =>
    (text || "").replace(/\{(\w+)\}/g, (all, key) => (key in values ? values[key] : all));
  const t = (key, values = {}) => fmt(T[key] || key, values);
  const wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  function uuid() {
    if (crypto.randomUUID) return crypto.randomUUID();
    // Plain-http pages on a LAN address have no randomUUID; build a v4 UUID by hand.
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  function showError(message) {
    errorBox.textContent = message;
    errorBox.hidden = !message;
  }

  function scrollDown() {
    logWrap.scrollTop = logWrap.scrollHeight;
  }

  // ---------------------------------------------------------------- bubbles

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function myBubble(text, photos = []) {
    const item = element("li", "bubble me pending");
    item.append(element("span", "sr-only", `${t("web.chat.you")}: `), text);
    if (photos.length) {
      const strip = element("div", "photos");
      for (const file of photos) {
        const img = element("img");
        img.alt = file.name;
        img.src = URL.createObjectURL(file);
        strip.append(img);
      }
      item.append(strip);
    }
    log.append(item);
    scrollDown();
    return item;
  }

  function choiceButton(label, className, onClick) {
    const button = element("button", className);
    button.type = "button";
    button.append(label);
    button.addEventListener("click", onClick);
    return button;
  }

  function renderBotItem(message, item) {
    const prompt = message.prompt;
    item.className = "bubble bot";
    item.dataset.id = String(message.id);
    item.dataset.kind = prompt.kind;
    item.replaceChildren(element("span", "sr-only", "Guardianes: "), prompt.text);
    const group = element("div", "choices");
    group.setAttribute("role", "group");
    if (prompt.kind === "choices") {
      const selected = new Set(prompt.selected || []);
      for (const choice of prompt.choices) {
        if (prompt.multiple) {
          const on = selected.has(choice.payload);
          const check = element("span", "check", on ? "✓" : "");
          check.setAttribute("aria-hidden", "true");
          const button = choiceButton(check, "toggle", () =>
            answer(message, choice.payload, null, group),
          );
          button.append(choice.label);
          button.setAttribute("aria-pressed", on ? "true" : "false");
          group.append(button);
        } else {
          const button = choiceButton(choice.label, "choice", () =>
            answer(message, choice.payload, choice.label, group, button),
          );
          group.append(button);
        }
      }
    }
    if (prompt.done_payload) {
      const button = choiceButton(prompt.done_label || "OK", "done", () =>
        answer(message, prompt.done_payload, prompt.done_label, group, button),
      );
      group.append(button);
    }
    if (prompt.skip_payload) {
      const button = choiceButton(prompt.skip_label || "", "skip", () =>
        answer(message, prompt.skip_payload, prompt.skip_label, group, button),
      );
      group.append(button);
    }
    if (group.childElementCount) item.append(group);
    if (prompt.attachment) item.append(attachmentElement(prompt.attachment, prompt.kind));
  }

  // A file of the "my data" export: the server serves it to this browser's chat only.
  function attachmentElement(attachment, kind) {
    const box = element("div", "attachment");
    if (kind === "image") {
      const image = element("img");
      image.src = attachment.url;
      image.alt = attachment.file_name;
      image.loading = "lazy";
      box.append(image);
    }
    const link = element("a", "download", `${T["privacy.web.download"] || "⬇"}: ${attachment.file_name}`);
    link.href = attachment.url;
    link.download = attachment.file_name;
    box.append(link);
    return box;
  }

  function disableChoices(item) {
    for (const button of item.querySelectorAll(".choices button")) button.disabled = true;
  }

  function expectsAnswer(prompt) {
    return !["text", "document", "image"].includes(prompt.kind);
  }

  function render(message) {
    let item = message.replaces ? items.get(message.replaces) : undefined;
    if (!item) {
      item = element("li");
      log.append(item);
    }
    renderBotItem(message, item);
    items.set(message.id, item);
    prompts.set(message.id, message.prompt);
    if (expectsAnswer(message.prompt)) {
      // Only the newest question can be answered: older buttons are disabled.
      if (active && active.item !== item) disableChoices(active.item);
      active = { id: message.id, prompt: message.prompt, item };
    }
    updatePanels();
  }

  function updatePanels() {
    const kind = active ? active.prompt.kind : null;
    locationPanel.hidden = kind !== "location";
    photoPanel.hidden = kind !== "photo";
    if (kind === "location") loadMap();
    scrollDown();
  }

  // ---------------------------------------------------------------- sending

  async function post(fields, files = []) {
    const data = new FormData();
    const externalId = uuid(); // one id for every retry of this post
    sentIds.add(externalId);
    data.append("external_id", externalId);
    data.append("lang", LOCALE);
    for (const [key, value] of Object.entries(fields)) {
      if (value !== undefined && value !== null) data.append(key, String(value));
    }
    for (const file of files) data.append("photos", file, file.name);
    for (let attempt = 0; ; attempt += 1) {
      let response;
      try {
        response = await fetch(API, { method: "POST", body: data, credentials: "same-origin" });
      } catch {
        response = null; // network failure: retry with the same external id
      }
      if (response && response.ok) return true;
      if (response && response.status < 500) {
        let message = t("web.error.network");
        try {
          const detail = (await response.json()).detail;
          if (detail && detail.message) message = detail.message;
        } catch {
          // not JSON: keep the generic message
        }
        showError(message);
        return false;
      }
      if (attempt >= RETRIES) {
        showError(t("web.error.network"));
        return false;
      }
      await wait(500 * 2 ** attempt);
    }
  }

  // Posts go one after another, so the bot receives them in the order they were made.
  function send(fields, files, bubble) {
    statusBox.textContent = t("web.chat.sending");
    const result = sendQueue.then(async () => {
      const ok = await post(fields, files);
      if (bubble) {
        if (ok) bubble.classList.remove("pending");
        else bubble.remove();
      }
      if (ok) showError("");
      return ok;
    });
    sendQueue = result.catch(() => false);
    result.finally(() => {
      statusBox.textContent = "";
    });
    return result;
  }

  async function answer(message, payload, label, group, button) {
    const buttons = group.querySelectorAll("button");
    for (const b of buttons) b.disabled = true;
    if (button) button.classList.add("chosen");
    const bubble = label ? myBubble(label) : null;
    const ok = await send({ kind: "choice", payload, source_message_id: message.id }, [], bubble);
    if (!ok && active && active.id === message.id) {
      for (const b of buttons) b.disabled = false;
      if (button) button.classList.remove("chosen");
    }
  }

  textForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = textInput.value.trim();
    if (!text) {
      showError(t("web.error.empty_text"));
      return;
    }
    textInput.value = "";
    const ok = await send({ kind: "text", text }, [], myBubble(text));
    if (!ok && !textInput.value) textInput.value = text;
  });

  for (const button of document.querySelectorAll("button.command")) {
    button.addEventListener("click", () => {
      $("commands").open = false;
      send({ kind: "command", command: button.dataset.command }, [], myBubble(button.textContent));
    });
  }

  // ---------------------------------------------------------------- photos

  $("photo-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const files = [...photoInput.files];
    if (!files.length) {
      showError(t("web.error.no_photo"));
      return;
    }
    const bubble = myBubble(t("web.photo.sent", { count: files.length }), files);
    if (await send({ kind: "photo" }, files, bubble)) photoInput.value = "";
  });

  // ---------------------------------------------------------------- location

  function parseCoords(text) {
    const match = /^\s*(-?\d+(?:\.\d+)?)\s*[,;\s]\s*(-?\d+(?:\.\d+)?)\s*$/.exec(text || "");
    if (!match) return null;
    const lat = Number(match[1]);
    const lon = Number(match[2]);
    if (Math.abs(lat) > 90 || Math.abs(lon) > 180) return null;
    return { lat, lon };
  }

  function choosePoint(lat, lon) {
    // Five decimals is about one metre: finer than any phone's GPS.
    coords.value = `${lat.toFixed(5)}, ${lon.toFixed(5)}`;
    locationStatus.textContent = t("web.location.selected", {
      lat: lat.toFixed(5),
      lon: lon.toFixed(5),
    });
    drawMarker(lat, lon);
  }

  $("location-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const point = parseCoords(coords.value);
    if (!point) {
      showError(t("web.location.invalid"));
      return;
    }
    const label = t("web.location.sent", { lat: point.lat.toFixed(5), lon: point.lon.toFixed(5) });
    const fields = { kind: "location", latitude: point.lat, longitude: point.lon };
    if (await send(fields, [], myBubble(label))) coords.value = "";
  });

  $("geo-button").addEventListener("click", () => {
    if (!navigator.geolocation) {
      showError(t("web.location.unavailable"));
      return;
    }
    locationStatus.textContent = t("web.location.locating");
    navigator.geolocation.getCurrentPosition(
      (position) => choosePoint(position.coords.latitude, position.coords.longitude),
      () => {
        locationStatus.textContent = "";
        showError(t("web.location.unavailable"));
      },
      { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 },
    );
  });

  // The location picker: Leaflet (served by the app) on the public map's base map, with the
  // same fallback (basemap.js): tiles when they load, a plain background when they cannot.
  // The spaces are drawn as SVG paths; a tap picks a point, a drag pans.
  let leaflet = null; // {map, marker, spaces}
  let mapLoading = null;

  function spaceTitle(layer, name) {
    const path = layer.getElement && layer.getElement();
    if (!path || !name) return;
    const title = document.createElementNS("http://www.w3.org/2000/svg", "title");
    title.textContent = name;
    path.append(title);
  }

  function createMap() {
    const view = L.map(map, { zoomControl: false, keyboard: true, attributionControl: true });
    window.guardianesBaseMap(view, { tiles: map.dataset.tiles, attribution: map.dataset.attribution });
    view.setView([DEFAULT_CENTER[1], DEFAULT_CENTER[0]], 14);
    view.on("click", (event) => choosePoint(event.latlng.lat, event.latlng.lng));
    $("zoom-in").addEventListener("click", () => view.zoomIn());
    $("zoom-out").addEventListener("click", () => view.zoomOut());
    return { map: view, marker: null, spaces: null };
  }

  function spreadOf(layer) {
    if (!layer.getBounds) return 0;
    const box = layer.getBounds();
    return (box.getEast() - box.getWest()) * (box.getNorth() - box.getSouth());
  }

  function drawMap(collection) {
    const features = (collection.features || []).filter((f) => f.geometry);
    if (!features.length) {
      locationStatus.textContent = t("web.location.no_spaces");
      return;
    }
    const spaces = L.geoJSON({ type: "FeatureCollection", features }, {
      style: (feature) => ({
        className: /LineString/.test(feature.geometry.type) ? "space line" : "space",
      }),
      pointToLayer: (feature, latlng) => L.circleMarker(latlng, { radius: 6, className: "space" }),
    });
    const bounds = spaces.getBounds();
    const wide = ((bounds.getEast() - bounds.getWest()) * (bounds.getNorth() - bounds.getSouth())) / 8;
    // Big areas (route zones) first, so the parks inside them stay on top and clickable.
    const layers = spaces.getLayers().sort((a, b) => spreadOf(b) - spreadOf(a));
    spaces.clearLayers();
    for (const layer of layers) {
      if (spreadOf(layer) > wide) layer.options.className = "space wide";
      spaces.addLayer(layer);
    }
    spaces.addTo(leaflet.map);
    spaces.eachLayer((layer) => spaceTitle(layer, layer.feature.properties && layer.feature.properties.name));
    leaflet.spaces = spaces;
    leaflet.map.fitBounds(bounds, { padding: [8, 8], animate: false });
    scrollDown(); // the drawn map made the log shorter: keep the question in sight
  }

  function loadMap() {
    if (typeof L === "undefined" || !window.guardianesBaseMap) {
      return Promise.resolve(); // no map script: typing the coordinates still works
    }
    if (!leaflet) leaflet = createMap();
    // The panel was hidden until now: Leaflet measures its box again.
    requestAnimationFrame(() => leaflet.map.invalidateSize());
    if (!mapLoading) {
      mapLoading = fetch("/chat/api/spaces.geojson", { credentials: "same-origin" })
        .then((response) => (response.ok ? response.json() : { features: [] }))
        .catch(() => ({ features: [] }))
        .then(drawMap);
    }
    return mapLoading;
  }

  function drawMarker(lat, lon) {
    if (!leaflet) return;
    if (!leaflet.marker) {
      leaflet.marker = L.circleMarker([lat, lon], {
        radius: 8,
        className: "marker",
        interactive: false,
      }).addTo(leaflet.map);
    } else {
      leaflet.marker.setLatLng([lat, lon]);
    }
  }

  // For tests and people's own scripts.
  window.guardianesChatMap = {
    map: () => (leaflet ? leaflet.map : null),
    isPlain: () => map.classList.contains("plain"),
  };

  // ---------------------------------------------------------------- receiving

  // What the person sent, in the words their page showed when they sent it.
  function ownText(own) {
    if (own.kind === "text" || own.kind === "command") return own.text;
    if (own.kind === "location" && own.latitude !== null) {
      return t("web.location.sent", { lat: own.latitude.toFixed(5), lon: own.longitude.toFixed(5) });
    }
    if (own.kind === "photo" && own.photos) return t("web.photo.sent", { count: own.photos });
    if (own.kind === "choice") {
      const prompt = prompts.get(Number(own.source_message_id));
      if (!prompt) return null;
      if (own.payload === prompt.done_payload) return prompt.done_label;
      if (own.payload === prompt.skip_payload) return prompt.skip_label;
      if (prompt.multiple) return null; // a toggle shows as a tick, not as a message
      const choice = (prompt.choices || []).find((c) => c.payload === own.payload);
      return choice ? choice.label : null;
    }
    return null;
  }

  // A message sent before a reload or from another tab: placed before the first reply
  // that came after it.
  function showOwn(own) {
    if (sentIds.has(own.client_id)) return;
    const text = ownText(own);
    if (!text) return;
    const item = element("li", "bubble me");
    item.dataset.own = String(own.id);
    item.append(element("span", "sr-only", `${t("web.chat.you")}: `), text);
    const next = [...log.querySelectorAll("li.bubble.bot")].find(
      (li) => Number(li.dataset.id) > own.after_reply,
    );
    if (next) log.insertBefore(item, next);
    else log.append(item);
    scrollDown();
  }

  async function fetchMessages(waitSeconds) {
    const url = `${API}?after=${lastId}&wait=${waitSeconds}&mine_after=${mineLastId}`;
    const response = await fetch(url, { credentials: "same-origin", cache: "no-store" });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const data = await response.json();
    for (const message of data.messages) {
      if (message.id > lastId) {
        render(message);
        lastId = message.id;
      }
    }
    for (const own of data.mine || []) {
      if (own.id > mineLastId) {
        showOwn(own);
        mineLastId = own.id;
      }
    }
    return data.messages.length;
  }

  async function pollForever() {
    let failures = 0;
    for (;;) {
      const started = Date.now();
      try {
        const count = await fetchMessages(WAIT_SECONDS);
        failures = 0;
        if (statusBox.textContent === t("web.chat.offline")) statusBox.textContent = "";
        // A server without a waiting channel answers at once; do not spin.
        if (!count && Date.now() - started < 1000) await wait(1500);
      } catch {
        failures += 1;
        statusBox.textContent = t("web.chat.offline");
        await wait(Math.min(30000, 1000 * 2 ** failures));
      }
    }
  }

  async function start() {
    try {
      while ((await fetchMessages(0)) >= 100);
    } catch {
      // offline at load: the poll loop below retries
    }
    if (lastId === 0) {
      const data = new FormData();
      data.append("external_id", START_ID);
      data.append("kind", "command");
      data.append("command", "start");
      data.append("lang", LOCALE);
      sendQueue = fetch(API, { method: "POST", body: data, credentials: "same-origin" })
        .then((response) => response.ok)
        .catch(() => false);
    }
    textInput.focus();
    pollForever();
  }

  start();
})();
