// Staff dashboard: the map, the broadcast audience count and the progress bar.
// Light on purpose: every page works without it except the map itself.
"use strict";

function csrfOf(form) {
  const input = form.querySelector('input[name="csrf_token"]');
  return input ? input.value : "";
}

function staffMap() {
  const box = document.getElementById("staff-map");
  if (!box || typeof L === "undefined" || !window.guardianesBaseMap) return;
  const map = L.map(box, { preferCanvas: true }).setView([28.635, -106.089], 12);
  // The public map's base map: tiles with attribution, a plain background when they fail.
  window.guardianesBaseMap(map, { tiles: box.dataset.tiles, attribution: box.dataset.attribution });
  const colors = { ok: "#15803d", failure: "#b91c1c", no_cards: "#6b7280" };
  let layer = null;
  const form = document.getElementById("map-filters");
  const count = document.getElementById("map-count");
  function describe(p) {
    const div = document.createElement("div");
    const title = document.createElement("strong");
    title.textContent = p.name + (p.code ? " (" + p.code + ")" : "");
    div.appendChild(title);
    for (const line of [
      p.responsible || "",
      p.contract_number || "",
      box.getAttribute("data-label-" + p.latest_card_status),
      (box.getAttribute("data-label-discrepancies") || "") + ": " + p.unresolved_discrepancies,
    ]) {
      if (!line) continue;
      const row = document.createElement("div");
      row.textContent = line;
      div.appendChild(row);
    }
    return div;
  }
  async function load() {
    const params = new URLSearchParams();
    for (const [key, value] of new FormData(form)) if (value) params.append(key, value);
    const answer = await fetch(form.action + "?" + params.toString(), { credentials: "same-origin" });
    if (!answer.ok) return;
    const data = await answer.json();
    if (layer) layer.remove();
    layer = L.geoJSON(data, {
      style: (f) => ({ color: colors[f.properties.latest_card_status] || "#6b7280", weight: 1, fillOpacity: 0.5 }),
      pointToLayer: (f, latlng) => L.circleMarker(latlng, { radius: 6 }),
      onEachFeature: (f, l) => l.bindPopup(describe(f.properties)),
    }).addTo(map);
    if (data.features.length) map.fitBounds(layer.getBounds(), { maxZoom: 16 });
    count.textContent = count.dataset.template.replace("{count}", data.features.length);
    box.dataset.loaded = String(data.features.length);
  }
  form.addEventListener("submit", (event) => { event.preventDefault(); load(); });
  load();
}

function audience() {
  const form = document.getElementById("composer");
  if (!form) return;
  const out = document.getElementById("audience");
  async function update() {
    const body = new FormData();
    body.append("csrf_token", csrfOf(form));
    for (const name of ["colonia_id", "role", "channel"]) {
      const value = form.elements[name].value;
      if (value) body.append(name, value);
    }
    const answer = await fetch(form.dataset.audienceUrl, { method: "POST", body, credentials: "same-origin" });
    if (!answer.ok) return;
    const data = await answer.json();
    out.textContent = out.dataset.template.replace("{count}", data.count);
    out.dataset.count = String(data.count);
  }
  for (const name of ["colonia_id", "role", "channel"]) form.elements[name].addEventListener("change", update);
  update();
}

function progressBar() {
  const card = document.getElementById("progress-card");
  if (!card) return;
  const bar = document.getElementById("broadcast-progress");
  const text = document.getElementById("progress-text");
  async function poll() {
    const answer = await fetch(card.dataset.progressUrl, { credentials: "same-origin" });
    if (!answer.ok) return;
    const p = await answer.json();
    bar.max = p.total || 1;
    bar.value = p.total ? p.finished : 1;
    text.textContent = p.finished + " / " + p.total;
    for (const key of ["sent", "failed", "unreachable"]) {
      card.querySelector('[data-field="' + key + '"]').textContent = p[key];
    }
    card.querySelector('[data-field="status"]').textContent =
      card.getAttribute("data-label-" + p.status) || p.status;
    card.dataset.status = p.status;
    if (p.status === "pending" || p.status === "sending") setTimeout(poll, 1000);
  }
  poll();
}

document.addEventListener("DOMContentLoaded", () => {
  staffMap();
  audience();
  progressBar();
});
