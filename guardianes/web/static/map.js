/* The public map: spaces from /mapa/api/espacios.geojson drawn with Leaflet (served by the
   app), a side panel per space, search, "where am I?". No framework, no CDN. */
(function () {
  "use strict";

  var config = JSON.parse(document.body.dataset.config || "{}");
  var texts = config.texts || {};
  var lang = config.locale || "es";
  var SERVICE_COLORS = {
    green_space_maintenance: "#1b7f3b",
    garbage_collection: "#7a4a12",
    street_lighting: "#b08900"
  };
  var STATUS_FILL = { ok: "#2e9e57", failure: "#d1352b", no_cards: "#8a94a6" };
  var BANDS = [[13, 10], [16, 14], [99, 17]]; // zoom below → the zoom asked of the server

  function t(key, values) {
    var text = texts[key] || key;
    Object.keys(values || {}).forEach(function (name) {
      text = text.split("{" + name + "}").join(String(values[name]));
    });
    return text;
  }

  var statusLine = document.getElementById("status");
  function say(text) { statusLine.textContent = text; }

  var map = L.map("map", {
    preferCanvas: true, // thousands of polygons draw far faster on one canvas than as SVG
    zoomControl: true,
    keyboard: true,
    attributionControl: true
  });
  L.control.scale({ imperial: false }).addTo(map);
  var container = map.getContainer();

  // Base map: tiles when they load; the plain background (with scale and outlines) when not.
  var baseMap = window.guardianesBaseMap(map, {
    tiles: config.tiles,
    attribution: config.attribution,
    onPlain: function () { say(t("map.tiles_failed")); }
  });

  function band(zoom) {
    for (var i = 0; i < BANDS.length; i += 1) {
      if (zoom < BANDS[i][0]) { return BANDS[i][1]; }
    }
    return BANDS[BANDS.length - 1][1];
  }

  function style(feature) {
    var p = feature.properties;
    return {
      color: SERVICE_COLORS[p.service] || "#34495e",
      weight: 2,
      opacity: 0.95,
      fillColor: STATUS_FILL[p.latest_card_status] || STATUS_FILL.no_cards,
      fillOpacity: 0.55
    };
  }

  var features = [];
  var layerById = {};
  var current = null;
  var loadedBand = null;
  var byBand = {};
  var selected = null;

  // Where most spaces are: a published route area can span a whole region, and the first
  // view should show the city, so the outer 5 % of points on each side are left out.
  function mostSpaces(list) {
    var lats = [], lons = [];
    list.forEach(function (f) {
      if (f.properties.point) { lats.push(f.properties.point[0]); lons.push(f.properties.point[1]); }
    });
    if (!lats.length) { return L.geoJSON({ type: "FeatureCollection", features: list }).getBounds(); }
    function sorted(values) { return values.sort(function (a, b) { return a - b; }); }
    function at(values, share) { return values[Math.min(values.length - 1, Math.floor(share * values.length))]; }
    lats = sorted(lats); lons = sorted(lons);
    return [[at(lats, 0.05), at(lons, 0.05)], [at(lats, 0.95), at(lons, 0.95)]];
  }

  var drawnBand = null;
  function draw(data, drawn) {
    drawnBand = drawn;
    if (current) { map.removeLayer(current); }
    layerById = {};
    features = data.features;
    // The server sends big areas first, so the parks inside them are drawn on top.
    current = L.geoJSON(data, {
      style: style,
      // Small spaces come as points at low zoom: a dot big enough to see and to tap.
      pointToLayer: function (feature, latlng) {
        return L.circleMarker(latlng, { radius: 6 });
      },
      onEachFeature: function (feature, layer) { layerById[feature.id] = layer; }
    });
    // One tooltip and one click handler for the whole layer, not one per space: with
    // thousands of spaces that is most of the time the first render would take.
    current.bindTooltip(function (layer) { return layer.feature.properties.name; }, { sticky: true });
    current.on("click", function (event) { open(event.layer.feature.id, false); });
    current.addTo(map);
    if (selected !== null && layerById[selected]) { highlight(selected); }
  }

  function load(zoom, first) {
    var wanted = band(zoom);
    if (wanted === loadedBand) { return Promise.resolve(); }
    loadedBand = wanted;
    if (byBand[wanted]) { draw(byBand[wanted], wanted); return Promise.resolve(); }
    if (first) { say(t("map.loading")); }
    return fetch("/mapa/api/espacios.geojson?zoom=" + wanted, { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.json();
      })
      .then(function (data) {
        byBand[wanted] = data;
        if (band(map.getZoom()) !== wanted) { return; } // the person zoomed on meanwhile
        // The view first, then the shapes: Leaflet projects and paints them once, not twice.
        if (first && !config.space && data.features.length) {
          map.fitBounds(mostSpaces(data.features), { padding: [8, 8], animate: false });
        }
        draw(data, wanted);
        if (first) {
          if (!baseMap.isPlain() || !config.tiles) {
            say(t("map.loaded", { count: data.features.length }));
          }
          // Leaflet paints the canvas in its own animation frame, queued before this one:
          // here the shapes are on screen. How long after navigation began (the bench reads it).
          window.requestAnimationFrame(function () {
            document.body.dataset.readyMs = String(Math.round(performance.now()));
            document.body.dataset.features = String(data.features.length);
            document.body.dataset.ready = "true";
          });
        }
      })
      .catch(function () {
        loadedBand = null;
        say(t("map.load_failed"));
      });
  }

  function highlight(id) {
    Object.keys(layerById).forEach(function (key) {
      var layer = layerById[key];
      if (layer.setStyle) { layer.setStyle(style(layer.feature)); }
    });
    var chosen = layerById[id];
    if (chosen && chosen.setStyle) {
      chosen.setStyle({ weight: 5, color: "#0b3d91", fillOpacity: 0.75 });
      if (chosen.bringToFront) { chosen.bringToFront(); }
    }
  }

  // ---- the side panel

  var panel = document.getElementById("panel");

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      if (name === "text") { node.textContent = attrs[name]; } else { node.setAttribute(name, attrs[name]); }
    });
    (children || []).forEach(function (child) { if (child) { node.appendChild(child); } });
    return node;
  }

  function fact(list, key, value) {
    if (value === null || value === undefined || value === "") { return; }
    list.appendChild(el("dt", { text: t(key) }));
    var dd = el("dd");
    if (value instanceof Node) { dd.appendChild(value); } else { dd.textContent = String(value); }
    list.appendChild(dd);
  }

  function render(space) {
    var legend = document.getElementById("legend");
    panel.textContent = "";
    var close = el("button", { type: "button", class: "close", "aria-label": t("map.close"), text: "×" });
    close.addEventListener("click", function () {
      selected = null;
      highlight(-1);
      history.replaceState(null, "", "/mapa" + (lang !== "es" ? "?lang=" + lang : ""));
      panel.textContent = "";
      panel.appendChild(el("h2", { id: "panel-title", text: t("map.close") }));
      panel.appendChild(legend);
    });
    panel.appendChild(close);
    panel.appendChild(el("h2", { id: "panel-title", text: space.name }));
    var facts = el("dl", { class: "facts" });
    fact(facts, "map.detail.code", space.code);
    fact(facts, "map.detail.colonia", space.colonia);
    fact(facts, "map.detail.service", space.service);
    fact(facts, "map.detail.responsible",
      (space.responsible || "—") + " (" + space.responsible_type + ")");
    fact(facts, "map.detail.contract", space.contract_number);
    fact(facts, "map.detail.amount", space.contract_amount);
    fact(facts, "map.detail.status",
      el("span", { class: "status status-" + space.latest_status, text: space.latest_status_label }));
    fact(facts, "map.detail.last_card", space.latest_card_at);
    panel.appendChild(facts);
    panel.appendChild(el("h3", { text: t("map.detail.obligations") }));
    panel.appendChild(el("ul", {}, space.obligations.map(function (o) { return el("li", { text: o }); })));
    panel.appendChild(el("h3", { text: t("map.detail.discrepancies") }));
    if (space.discrepancies.length) {
      panel.appendChild(el("ul", {}, space.discrepancies.map(function (d) {
        return el("li", { text: d.obligation + " · " + d.period + " · " + d.status + " · " +
          d.strength + " (" + t("map.detail.guardians", { count: d.guardians }) + ")" });
      })));
    } else {
      panel.appendChild(el("p", { text: t("map.detail.no_discrepancies") }));
    }
    panel.appendChild(el("h3", { text: t("map.report.title") }));
    var links = el("p", { class: "report" });
    if (space.telegram_url) {
      links.appendChild(el("a", { class: "button telegram", href: space.telegram_url, rel: "noopener", text: t("map.report.telegram") }));
    }
    if (space.whatsapp_url) {
      links.appendChild(el("a", { class: "button whatsapp", href: space.whatsapp_url, rel: "noopener", text: t("map.report.whatsapp") }));
    }
    if (!space.telegram_url && !space.whatsapp_url) {
      links.appendChild(el("a", { class: "button", href: "/chat" + (lang !== "es" ? "?lang=" + lang : ""), text: t("map.report.none") }));
    }
    panel.appendChild(links);
    var share = "/mapa/espacios/" + space.id + (lang !== "es" ? "?lang=" + lang : "");
    panel.appendChild(el("p", {}, [el("a", { href: share, text: t("map.detail.share") })]));
    panel.appendChild(legend);
  }

  function open(id, zoomTo) {
    selected = id;
    highlight(id);
    return fetch("/mapa/api/espacios/" + id + "?lang=" + lang, { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.json();
      })
      .then(function (space) {
        render(space);
        history.replaceState(null, "", "/mapa/espacios/" + id + (lang !== "es" ? "?lang=" + lang : ""));
        if (zoomTo) {
          map.fitBounds([[space.bounds[0], space.bounds[1]], [space.bounds[2], space.bounds[3]]],
            { maxZoom: 17, padding: [24, 24] });
        }
        panel.focus({ preventScroll: !window.matchMedia("(max-width: 720px)").matches });
      })
      .catch(function () { say(t("map.load_failed")); });
  }

  // ---- search by name, code, colonia or company

  var results = document.getElementById("results");
  function fold(text) {
    return String(text || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }
  document.getElementById("search-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var query = fold(document.getElementById("search").value.trim());
    results.textContent = "";
    if (!query) { results.hidden = true; return; }
    var found = features.filter(function (f) {
      var p = f.properties;
      return [p.name, p.code, p.colonia, p.responsible, p.contract_number].some(function (v) {
        return fold(v).indexOf(query) !== -1;
      });
    }).slice(0, 50);
    found.forEach(function (f) {
      var p = f.properties;
      var button = el("button", { type: "button", text: p.name + (p.code ? " (" + p.code + ")" : "") + (p.colonia ? " · " + p.colonia : "") });
      button.addEventListener("click", function () { open(f.id, true); });
      results.appendChild(el("li", {}, [button]));
    });
    results.hidden = false;
    say(found.length ? t("map.search.results", { count: found.length }) : t("map.search.none"));
    var first = results.querySelector("button");
    if (first) { first.focus(); }
  });

  // ---- where am I?

  var here = null;
  document.getElementById("locate").addEventListener("click", function () {
    if (!navigator.geolocation) { say(t("map.locate_failed")); return; }
    say(t("map.locating"));
    navigator.geolocation.getCurrentPosition(function (position) {
      var point = [position.coords.latitude, position.coords.longitude];
      if (here) { map.removeLayer(here); }
      here = L.circleMarker(point, { radius: 8, color: "#0b3d91", fillColor: "#4a90e2", fillOpacity: 0.9 }).addTo(map);
      map.setView(point, 16);
      say(t("map.located"));
    }, function () { say(t("map.locate_failed")); }, { enableHighAccuracy: true, timeout: 15000 });
  });

  // ---- start

  if (config.space) {
    var s = config.space;
    selected = s.id;
    map.fitBounds([[s.bounds[0], s.bounds[1]], [s.bounds[2], s.bounds[3]]],
      { maxZoom: 17, padding: [24, 24], animate: false });
    render(s);
  } else {
    map.setView([28.635, -106.089], 12); // Chihuahua until the spaces say where they are
  }
  load(map.getZoom(), true);
  map.on("zoomend", function () { load(map.getZoom(), false); });

  // For tests and for people's own scripts: the map, and where a space is on screen.
  window.guardianesMap = {
    map: map,
    pointOf: function (id) {
      var layer = layerById[id];
      if (!layer) { return null; }
      var inside = layer.feature.properties.point;
      var center = inside ? L.latLng(inside[0], inside[1]) : layer.getLatLng();
      var point = map.latLngToContainerPoint(center);
      var box = container.getBoundingClientRect();
      return { x: box.left + point.x, y: box.top + point.y };
    },
    features: function () { return features; },
    // True once the shapes drawn are those of the current zoom (after a zoom's reload).
    settled: function () { return drawnBand === band(map.getZoom()); },
    tileErrors: baseMap.tileErrors
  };
}());
