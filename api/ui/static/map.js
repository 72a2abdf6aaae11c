// The maps of the zone pages and the control room (Leaflet, vendored under /static/leaflet/).
// A map is a <div class="bo-map"> with:
//   data-geojson  a URL of a GeoJSON FeatureCollection of zones (drawn with their names)
//   data-live     a URL of the control room's JSON (cars, BOAs, hits), read again every
//                 data-refresh seconds without reloading the page
//   data-tiles    the base map's tile URL ({z}/{x}/{y}); empty: no base map
//   data-notice   the id of the line that says when the base map is missing
// Without a base map (offline, or not set) zones, cars and hits show on a plain background.
(function () {
  "use strict";
  if (!window.L) { return; }

  var KIND_COLOURS = {  // dark enough for 3:1 against the base map and the plain background
    paid: "#1d4f91", permit: "#6a2c91", blue: "#005a9c", loading: "#7a4a00", no_parking: "#a3001b"
  };
  var NL = [52.1, 5.3];

  function notice(el, text) {
    var n = document.getElementById(el.getAttribute("data-notice") || "");
    if (n) { n.textContent = text; n.hidden = false; }
  }

  function baseMap(el, map) {
    var url = el.getAttribute("data-tiles");
    if (!url) {
      notice(el, "Geen achtergrondkaart ingesteld: de kaart toont alleen de zones" +
        (el.hasAttribute("data-live") ? ", auto's, handhavers en meldingen." : "."));
      return;
    }
    var failed = 0;
    var layer = L.tileLayer(url, {
      attribution: el.getAttribute("data-attribution") || "", maxZoom: 19, crossOrigin: false
    });
    layer.on("tileerror", function () {
      failed += 1;
      if (failed === 2) {
        notice(el, "De achtergrondkaart is niet bereikbaar (geen netwerk?). " +
          "De kaart toont de gegevens op een lege achtergrond.");
      }
    });
    layer.addTo(map);
  }

  function zoneLayer(doc) {
    return L.geoJSON(doc, {
      interactive: false,
      style: function (f) {
        var c = KIND_COLOURS[(f.properties || {}).kind] || "#333333";
        return { color: c, weight: 3, fillColor: c, fillOpacity: 0.12 };
      },
      onEachFeature: function (f, layer) {
        var name = (f.properties || {}).name || String(f.id);
        layer.bindTooltip(name, {
          permanent: true, direction: "center", className: "bo-zone-label", interactive: false
        });
      }
    });
  }

  // labels that would overlap a bigger zone's label are hidden until zoomed in far enough
  function declutter(map, layer) {
    function place() {
      // the cars' and BOAs' names go first: a zone label under one of them is hidden
      var marks = map.getContainer().querySelectorAll(".bo-mark-label");
      var shown = Array.prototype.map.call(marks, function (m) { return m.getBoundingClientRect(); });
      var items = layer.getLayers().map(function (l) {
        var b = l.getBounds(), ne = map.latLngToLayerPoint(b.getNorthEast()),
          sw = map.latLngToLayerPoint(b.getSouthWest());
        return { layer: l, size: Math.abs((ne.x - sw.x) * (ne.y - sw.y)) };
      }).sort(function (a, b) { return b.size - a.size; });
      items.forEach(function (it) {
        var tip = it.layer.getTooltip(), el = tip && tip.getElement();
        if (!el) { return; }
        el.classList.remove("bo-zone-label--hidden");
        var r = el.getBoundingClientRect();
        var hit = shown.some(function (o) {
          return !(r.right < o.left || r.left > o.right || r.bottom < o.top || r.top > o.bottom);
        });
        if (hit) { el.classList.add("bo-zone-label--hidden"); } else { shown.push(r); }
      });
    }
    map.on("zoomend moveend bo:drawn", place);
    place();
  }

  function getJSON(url, done, failed) {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r.json(); })
      .then(done, failed || function () {});
  }

  function makeMap(el) {
    var map = L.map(el, { scrollWheelZoom: false, zoomSnap: 0.5 });
    map.attributionControl.setPrefix(
      'Kaart gemaakt met <a href="https://leafletjs.com" hreflang="en">Leaflet</a>');
    map.setView(NL, 7);
    baseMap(el, map);
    return map;
  }

  function fit(map, layer) {
    var b = layer.getBounds();
    if (b.isValid()) { map.fitBounds(b, { padding: [16, 16], maxZoom: 17 }); }
  }

  // ---------------------------------------------------------------- zone maps
  function zoneMap(el) {
    var map = makeMap(el);
    getJSON(el.getAttribute("data-geojson"), function (doc) {
      var layer = zoneLayer(doc).addTo(map);
      fit(map, layer);
      declutter(map, layer);
      el.setAttribute("data-ready", String((doc.features || []).length));
    }, function () { notice(el, "De zones konden niet worden geladen. Laad de pagina opnieuw."); });
    return map;
  }

  // ---------------------------------------------------------------- the control room
  var MARKS = {
    car: { color: "#0b3d91", fillColor: "#2f6fd6", radius: 10, label: "Scanauto" },
    car_silent: { color: "#33373d", fillColor: "#8a8f98", radius: 10, label: "Scanauto (stil)" },
    boa: { color: "#0f5132", fillColor: "#2e9e62", radius: 9, label: "Handhaver" },
    hit: { color: "#7a0014", fillColor: "#d2263e", radius: 8, label: "Melding" },
    hit_assigned: { color: "#4a2a00", fillColor: "#f0a30a", radius: 8, label: "Melding (toegewezen)" }
  };

  function mark(kind, lat, lon, text) {
    var m = MARKS[kind];
    return L.circleMarker([lat, lon], {
      color: m.color, weight: 3, fillColor: m.fillColor, fillOpacity: 0.9, radius: m.radius,
      interactive: false
    }).bindTooltip(text, { direction: "top", offset: [0, -8], className: "bo-mark-label",
                           permanent: kind !== "hit" && kind !== "hit_assigned" });
  }

  function liveMap(el) {
    var map = makeMap(el);
    var zones = el.getAttribute("data-geojson");
    if (zones) {
      getJSON(zones, function (doc) {
        var l = zoneLayer(doc).addTo(map);
        fit(map, l);
        declutter(map, l);
      });
    }
    var layer = L.layerGroup().addTo(map);
    var url = el.getAttribute("data-live");
    var every = Math.max(5, parseInt(el.getAttribute("data-refresh") || "15", 10)) * 1000;
    var status = document.getElementById(el.getAttribute("data-status") || "");
    var fitted = !!zones;

    function draw(data) {
      layer.clearLayers();
      (data.cars || []).forEach(function (c) {
        if (c.lat == null) { return; }
        layer.addLayer(mark(c.silent ? "car_silent" : "car", c.lat, c.lon, c.name));
      });
      (data.boas || []).forEach(function (b) {
        layer.addLayer(mark("boa", b.lat, b.lon, b.name));
      });
      (data.hits || []).forEach(function (h) {
        layer.addLayer(mark(h.assigned_to ? "hit_assigned" : "hit", h.lat, h.lon,
          h.zone + " · " + h.age + (h.assigned_to ? " · " + h.assigned_to : "")));
      });
      if (!fitted && layer.getLayers().length) {
        var g = L.featureGroup(layer.getLayers());
        fit(map, g);
        fitted = true;
      }
      el.setAttribute("data-drawn", String(layer.getLayers().length));
      map.fire("bo:drawn");
      document.dispatchEvent(new CustomEvent("controlroom:data", { detail: data }));
    }

    function refresh() {
      getJSON(url, function (data) {
        draw(data);
        if (status) { status.textContent = "Bijgewerkt om " + data.at_local + "."; }
      }, function () {
        if (status) { status.textContent = "Bijwerken lukt nu niet; de kaart probeert het zo opnieuw."; }
      });
    }
    refresh();
    window.setInterval(function () { if (!document.hidden) { refresh(); } }, every);
  }

  // the lists under the map are the page's own; when the live data differ, say so and keep the
  // waiting times current
  document.addEventListener("controlroom:data", function (e) {
    var data = e.detail, rows = document.querySelectorAll("[data-hit-id]"), seen = {};
    var changed = rows.length !== (data.hits || []).length;
    for (var i = 0; i < rows.length; i += 1) { seen[rows[i].getAttribute("data-hit-id")] = rows[i]; }
    (data.hits || []).forEach(function (h) {
      var row = seen[String(h.id)];
      if (!row || (row.getAttribute("data-assigned") || "") !== (h.assigned_to || "")) {
        changed = true;
        return;
      }
      var age = row.querySelector("[data-age-for]");
      if (age) { age.textContent = h.age; }
    });
    var stale = document.getElementById("stale-notice");
    if (stale) { stale.hidden = !changed; }
  });

  function init() {
    var maps = document.querySelectorAll(".bo-map");
    for (var i = 0; i < maps.length; i += 1) {
      if (maps[i].hasAttribute("data-live")) { liveMap(maps[i]); } else { zoneMap(maps[i]); }
    }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else { init(); }
}());
