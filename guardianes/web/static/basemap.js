/* The base map every page's Leaflet map shares (the public map, the web chat's location
   picker): tiles from the configured URL with their attribution, and a plain background with
   a faint grid when tiles cannot load, so the shapes still read. Needs Leaflet loaded first. */
(function () {
  "use strict";

  // options: tiles (URL template, "" for none), attribution, onPlain (called once, when
  // tiles fail before any loaded). Returns what the page may ask afterwards.
  window.guardianesBaseMap = function (map, options) {
    var container = map.getContainer();
    var errors = 0;
    var loads = 0;
    var announced = false;
    container.classList.add("basemap");
    function plain() {
      container.classList.add("plain");
      // Said once: later tile errors (after a pan) must not overwrite the page's status.
      if (!announced) {
        announced = true;
        if (options.onPlain) { options.onPlain(); }
      }
    }
    if (options.tiles) {
      var tiles = L.tileLayer(options.tiles, { maxZoom: 19, attribution: options.attribution || "" });
      tiles.on("tileload", function () { loads += 1; container.classList.remove("plain"); });
      tiles.on("tileerror", function () {
        errors += 1;
        if (loads === 0) { plain(); }
      });
      tiles.addTo(map);
    } else {
      container.classList.add("plain");
    }
    return {
      isPlain: function () { return container.classList.contains("plain"); },
      tileErrors: function () { return errors; }
    };
  };
}());
