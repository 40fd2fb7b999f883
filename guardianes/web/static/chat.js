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
  const METRES_PER_DEGREE = 111320;
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

  // The offline map: public spaces drawn as SVG in metres around the data's centre.
  const SVG_NS = "http://www.w3.org/2000/svg";
  const view = { origin: null, full: null, box: null };
  let mapLoading = null;

  function project(lon, lat) {
    const [lon0, lat0] = view.origin;
    const scale = METRES_PER_DEGREE * Math.cos((lat0 * Math.PI) / 180);
    return [(lon - lon0) * scale, -(lat - lat0) * METRES_PER_DEGREE];
  }

  function unproject(x, y) {
    const [lon0, lat0] = view.origin;
    const scale = METRES_PER_DEGREE * Math.cos((lat0 * Math.PI) / 180);
    return { lon: lon0 + x / scale, lat: lat0 - y / METRES_PER_DEGREE };
  }

  function ringsPath(rings) {
    return rings
      .map((ring) => ring.map(([lon, lat], i) => `${i ? "L" : "M"}${project(lon, lat).join(",")}`).join("") + "Z")
      .join("");
  }

  function linePath(line) {
    return line.map(([lon, lat], i) => `${i ? "L" : "M"}${project(lon, lat).join(",")}`).join("");
  }

  function geometryPaths(geometry) {
    switch (geometry && geometry.type) {
      case "Polygon":
        return [[ringsPath(geometry.coordinates), false]];
      case "MultiPolygon":
        return [[geometry.coordinates.map(ringsPath).join(""), false]];
      case "LineString":
        return [[linePath(geometry.coordinates), true]];
      case "MultiLineString":
        return [[geometry.coordinates.map(linePath).join(""), true]];
      case "GeometryCollection":
        return geometry.geometries.flatMap(geometryPaths);
      default:
        return [];
    }
  }

  function eachPosition(geometry, visit) {
    const walk = (value) => {
      if (typeof value[0] === "number") visit(value);
      else value.forEach(walk);
    };
    if (geometry.type === "GeometryCollection") geometry.geometries.forEach((g) => eachPosition(g, visit));
    else walk(geometry.coordinates);
  }

  function setBox(box) {
    view.box = box;
    map.setAttribute("viewBox", box.join(" "));
    const marker = map.querySelector(".marker");
    if (marker) marker.setAttribute("r", String(Math.max(box[2], box[3]) / 60));
  }

  function drawMap(collection) {
    const features = (collection.features || []).filter((f) => f.geometry);
    let west = Infinity;
    let south = Infinity;
    let east = -Infinity;
    let north = -Infinity;
    for (const feature of features) {
      eachPosition(feature.geometry, ([lon, lat]) => {
        west = Math.min(west, lon);
        east = Math.max(east, lon);
        south = Math.min(south, lat);
        north = Math.max(north, lat);
      });
    }
    if (!features.length) {
      [west, south] = [DEFAULT_CENTER[0] - 0.01, DEFAULT_CENTER[1] - 0.01];
      [east, north] = [DEFAULT_CENTER[0] + 0.01, DEFAULT_CENTER[1] + 0.01];
      locationStatus.textContent = t("web.location.no_spaces");
    }
    view.origin = [(west + east) / 2, (south + north) / 2];
    const [x0, y0] = project(west, north);
    const [x1, y1] = project(east, south);
    const margin = Math.max(x1 - x0, y1 - y0) * 0.08 + 20;
    view.full = [x0 - margin, y0 - margin, x1 - x0 + 2 * margin, y1 - y0 + 2 * margin];
    const group = document.createElementNS(SVG_NS, "g");
    // Big areas (route zones) first, so the parks inside them stay on top and clickable.
    const sized = features.map((feature) => {
      let [w, s, e, n] = [Infinity, Infinity, -Infinity, -Infinity];
      eachPosition(feature.geometry, ([lon, lat]) => {
        [w, e, s, n] = [Math.min(w, lon), Math.max(e, lon), Math.min(s, lat), Math.max(n, lat)];
      });
      return { feature, area: (e - w) * (n - s) };
    });
    sized.sort((a, b) => b.area - a.area);
    const wide = ((east - west) * (north - south)) / 8;
    for (const { feature, area } of sized) {
      for (const [d, isLine] of geometryPaths(feature.geometry)) {
        const path = document.createElementNS(SVG_NS, "path");
        path.setAttribute("d", d);
        path.setAttribute("class", isLine ? "space line" : area > wide ? "space wide" : "space");
        const title = document.createElementNS(SVG_NS, "title");
        title.textContent = (feature.properties && feature.properties.name) || "";
        path.append(title);
        group.append(path);
      }
    }
    map.replaceChildren(group);
    setBox(view.full);
    scrollDown(); // the drawn map made the log shorter: keep the question in sight
  }

  function loadMap() {
    if (!mapLoading) {
      mapLoading = fetch("/chat/api/spaces.geojson", { credentials: "same-origin" })
        .then((response) => (response.ok ? response.json() : { features: [] }))
        .catch(() => ({ features: [] }))
        .then(drawMap);
    }
    return mapLoading;
  }

  function drawMarker(lat, lon) {
    if (!view.origin) return;
    let marker = map.querySelector(".marker");
    if (!marker) {
      marker = document.createElementNS(SVG_NS, "circle");
      marker.setAttribute("class", "marker");
      map.append(marker);
    }
    const [x, y] = project(lon, lat);
    marker.setAttribute("cx", String(x));
    marker.setAttribute("cy", String(y));
    setBox(view.box);
  }

  function svgPoint(event) {
    const point = map.createSVGPoint();
    point.x = event.clientX;
    point.y = event.clientY;
    return point.matrixTransform(map.getScreenCTM().inverse());
  }

  function zoom(factor, center) {
    if (!view.box) return;
    const [x, y, w, h] = view.box;
    const cx = center ? center.x : x + w / 2;
    const cy = center ? center.y : y + h / 2;
    const nw = Math.min(Math.max(w * factor, 40), view.full[2] * 4);
    const nh = (nw * h) / w;
    setBox([cx - ((cx - x) * nw) / w, cy - ((cy - y) * nh) / h, nw, nh]);
  }

  $("zoom-in").addEventListener("click", () => zoom(0.5));
  $("zoom-out").addEventListener("click", () => zoom(2));
  map.addEventListener(
    "wheel",
    (event) => {
      event.preventDefault();
      zoom(event.deltaY < 0 ? 0.8 : 1.25, svgPoint(event));
    },
    { passive: false },
  );

  // A short press picks a point; a drag pans the map.
  let drag = null;
  map.addEventListener("pointerdown", (event) => {
    if (!view.box) return;
    drag = { start: svgPoint(event), x: event.clientX, y: event.clientY, moved: false };
    map.setPointerCapture(event.pointerId);
  });
  map.addEventListener("pointermove", (event) => {
    if (!drag) return;
    if (Math.hypot(event.clientX - drag.x, event.clientY - drag.y) > 6) drag.moved = true;
    if (!drag.moved) return;
    const here = svgPoint(event);
    const [x, y, w, h] = view.box;
    setBox([x + drag.start.x - here.x, y + drag.start.y - here.y, w, h]);
  });
  map.addEventListener("pointerup", (event) => {
    if (!drag) return;
    const wasDrag = drag.moved;
    drag = null;
    if (wasDrag) return;
    const here = svgPoint(event);
    const point = unproject(here.x, here.y);
    choosePoint(point.lat, point.lon);
  });
  map.addEventListener("pointercancel", () => {
    drag = null;
  });

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
