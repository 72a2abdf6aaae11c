// Small progressive enhancements for the pages. Everything works without this script, except
// what needs the device: the tablet's position (live distance, on-site confirmation, nearest
// first) and zooming a photo by tapping.
(function () {
  "use strict";

  var geo = "geolocation" in navigator ? navigator.geolocation : null;
  var GEO_OPTIONS = { enableHighAccuracy: true, timeout: 10000, maximumAge: 10000 };

  function $(id) { return document.getElementById(id); }

  function positionProblem(err) {
    if (!geo) { return "Dit apparaat geeft geen locatie door."; }
    if (err && err.code === 1) {
      return "Locatie niet toegestaan. Sta locatie toe voor deze site in de instellingen van de browser.";
    }
    if (err && err.code === 3) { return "Uw locatie is niet op tijd bepaald. Probeer het buiten nog eens."; }
    return "Uw locatie kon niet worden bepaald.";
  }
  // a message after "maar": only its first letter small ("... maar locatie niet toegestaan. Sta ...")
  function midSentence(text) { return text.charAt(0).toLowerCase() + text.slice(1); }

  function onePosition(done) {
    if (!geo) { done(null, null); return; }
    geo.getCurrentPosition(function (p) { done(p.coords, null); },
                           function (e) { done(null, e); }, GEO_OPTIONS);
  }

  // haversine, metres (the same formula as the server's check)
  function distance(lon1, lat1, lon2, lat2) {
    var r = Math.PI / 180, p1 = lat1 * r, p2 = lat2 * r;
    var a = Math.pow(Math.sin((p2 - p1) / 2), 2) +
      Math.cos(p1) * Math.cos(p2) * Math.pow(Math.sin((lon2 - lon1) * r / 2), 2);
    return 2 * 6371008.8 * Math.asin(Math.min(1, Math.sqrt(a)));
  }

  function metres(m) {
    return m < 1000 ? Math.round(m) + " m" : (m / 1000).toFixed(1).replace(".", ",") + " km";
  }

  // ---------------------------------------------------------------- queue: nearest first
  var nearest = $("nearest");
  if (nearest) {
    nearest.addEventListener("click", function () {
      var form = $("queue-filters");
      var state = $("sort-state");
      nearest.disabled = true;
      nearest.textContent = "Positie bepalen…";
      onePosition(function (c, err) {
        if (!c) {
          nearest.disabled = false;
          nearest.textContent = "Dichtstbij eerst";
          state.textContent = "Dichtstbij eerst kan niet: " + positionProblem(err) +
            " De lijst blijft op tijd gesorteerd.";
          state.classList.add("app-warning-text");
          return;
        }
        form.elements.lon.value = c.longitude.toFixed(6);
        form.elements.lat.value = c.latitude.toFixed(6);
        form.submit();
      });
    });
  }

  // ---------------------------------------------------------------- a hit: live distance
  var hit = $("hit");
  var last = null;  // the latest position: {lon, lat, accuracy}
  function fillPosition(form) {
    if (!form || !last) { return; }
    ["lon", "lat"].forEach(function (k) {
      if (form.elements[k]) { form.elements[k].value = last[k].toFixed(6); }
      if (form.elements["near_" + k]) { form.elements["near_" + k].value = last[k].toFixed(6); }
    });
  }
  if (hit) {
    var carLon = parseFloat(hit.dataset.lon), carLat = parseFloat(hit.dataset.lat);
    var maxD = parseFloat(hit.dataset.maxDistance);
    var out = $("distance");
    var copies = document.querySelectorAll("[data-distance-copy]");
    var show = function (text, warn) {
      out.textContent = text;
      out.classList.toggle("app-warning-text", !!warn);
      copies.forEach(function (el) { el.textContent = text; });
    };
    if (!geo) {
      show(positionProblem(null), true);
    } else {
      geo.watchPosition(function (p) {
        var c = p.coords;
        last = { lon: c.longitude, lat: c.latitude, accuracy: c.accuracy };
        var d = distance(carLon, carLat, c.longitude, c.latitude);
        var text = "U bent ongeveer " + metres(d) + " van het voertuig (nauwkeurigheid ± " +
          metres(c.accuracy) + ").";
        if (c.accuracy > maxD) {
          show(text + " Uw locatie is te onnauwkeurig om ter plaatse te bevestigen.", true);
        } else if (d > maxD) {
          show(text + " Ter plaatse bevestigen kan binnen " + metres(maxD) + ".", true);
        } else {
          show(text, false);
        }
        document.querySelectorAll("form").forEach(fillPosition);
      }, function (err) { show(positionProblem(err), true); }, GEO_OPTIONS);
    }
  }

  // on-site confirmation needs a position: wait for one before sending
  var confirmForm = $("confirm-form");
  if (confirmForm) {
    confirmForm.addEventListener("submit", function (ev) {
      fillPosition(confirmForm);
      var mode = confirmForm.querySelector("input[name=mode]:checked");
      if (!mode || mode.value !== "on_site" || confirmForm.elements.lon.value ||
          confirmForm.dataset.located) { return; }
      ev.preventDefault();
      var button = $("confirm");
      button.disabled = true;
      button.textContent = "Positie bepalen…";
      onePosition(function (c) {
        if (c) {
          last = { lon: c.longitude, lat: c.latitude, accuracy: c.accuracy };
          fillPosition(confirmForm);
        }
        confirmForm.dataset.located = "1";
        confirmForm.submit();  // without a position the server says what is missing
      });
    });
  }
  var rejectForm = $("reject-form");
  if (rejectForm) { rejectForm.addEventListener("submit", function () { fillPosition(rejectForm); }); }

  // ---------------------------------------------------------------- the claim: time left
  var claim = $("claim-state");
  function showLeft(untilIso) {
    var left = $("claim-left");
    if (!left || !untilIso) { return; }
    var ms = Date.parse(untilIso) - Date.now();
    if (ms <= 0) {
      left.textContent = "0 min";
      claim.classList.add("app-claim--expired");
      claim.querySelector(".app-claim__text").textContent =
        "Uw behandeltijd is verlopen. Bij Bevestigen of Afwijzen houdt het systeem de melding " +
        "weer voor u vast, als geen collega haar intussen heeft genomen. Verleng om zeker te zijn.";
      return;
    }
    var min = Math.ceil(ms / 60000);
    left.textContent = min + " min";
    claim.classList.toggle("app-claim--soon", min <= 2);
  }
  if (claim && claim.dataset.claimUntil) {
    showLeft(claim.dataset.claimUntil);
    window.setInterval(function () { showLeft(claim.dataset.claimUntil); }, 15000);
  }
  // extend without leaving the page (what was typed stays)
  var extend = $("extend-form");
  if (extend && window.fetch && window.DOMParser) {
    extend.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var button = $("extend");
      button.disabled = true;
      fetch(extend.action, { method: "POST", body: new FormData(extend), credentials: "same-origin" })
        .then(function (r) { return r.text().then(function (t) { return { ok: r.ok, text: t }; }); })
        .then(function (r) {
          var doc = new DOMParser().parseFromString(r.text, "text/html");
          var fresh = doc.getElementById("claim-state");
          if (r.ok && fresh && fresh.dataset.claimUntil) {
            claim.dataset.claimUntil = fresh.dataset.claimUntil;
            claim.classList.remove("app-claim--expired", "app-claim--soon");
            claim.querySelector(".app-claim__text").innerHTML =
              fresh.querySelector(".app-claim__text").innerHTML;
            showLeft(claim.dataset.claimUntil);
          } else {
            window.location.reload();  // taken meanwhile: show the page as it is now
          }
        })
        .catch(function () { extend.submit(); })
        .then(function () { button.disabled = false; });
    });
  }

  // ---------------------------------------------------------------- nothing typed is lost
  // What the BOA types in a hit's forms is kept in this tab's sessionStorage until the hit is
  // decided, so a session that ended while walking to the car (login again) or a reload does
  // not throw the note away. Only empty fields are filled back in.
  var keptForms = document.querySelectorAll("form[data-keep]");
  function keepKey(form) { return "scancar:" + window.location.pathname + ":" + form.id; }
  if (window.sessionStorage && keptForms.length) {
    if ($("decision")) {  // decided: forget what was kept for this hit
      keptForms.forEach(function (f) { sessionStorage.removeItem(keepKey(f)); });
    }
    keptForms.forEach(function (form) {
      var saved = {};
      try { saved = JSON.parse(sessionStorage.getItem(keepKey(form)) || "{}"); } catch (e) { saved = {}; }
      Object.keys(saved).forEach(function (name) {
        var el = form.elements[name];
        if (!el) { return; }
        if (el instanceof RadioNodeList || (el.type === "radio")) {
          var any = form.querySelector("input[name='" + name + "']:checked");
          var want = form.querySelector("input[name='" + name + "'][value='" + saved[name] + "']");
          if (!any && want && !want.disabled) { want.checked = true; }
        } else if (!el.value && el.type !== "hidden" && el.type !== "file") {
          el.value = saved[name];
        }
      });
      form.addEventListener("input", function () {
        var values = {};
        Array.prototype.forEach.call(form.elements, function (el) {
          if (!el.name || el.type === "hidden" || el.type === "file" || el.name === "csrf") { return; }
          if ((el.type === "radio" || el.type === "checkbox") && !el.checked) { return; }
          values[el.name] = el.value;
        });
        sessionStorage.setItem(keepKey(form), JSON.stringify(values));
      });
    });
  }

  // ---------------------------------------------------------------- decision sheets
  function openSheet() {
    var id = window.location.hash.slice(1);
    var sheet = id && document.getElementById(id);
    if (sheet && sheet.classList.contains("app-sheet")) {
      var first = sheet.querySelector("input:checked, input:not([type=hidden]):not([disabled])");
      (first || sheet).focus();
    }
  }
  window.addEventListener("hashchange", openSheet);
  openSheet();
  document.querySelectorAll("[data-close-sheet]").forEach(function (a) {
    a.addEventListener("click", function (ev) {
      var sheet = a.closest(".app-sheet");
      if (sheet.classList.contains("app-sheet--open")) { return; }  // a reload closes it
      ev.preventDefault();
      // a fragment that names nothing: :target no longer matches, the page does not jump
      window.location.replace("#dicht");
      var opener = $(sheet.id === "sheet-confirm" ? "open-confirm" : "open-reject");
      if (opener) { opener.focus(); }
    });
  });
  document.addEventListener("keydown", function (ev) {
    if (ev.key !== "Escape") { return; }
    var open = document.querySelector(".app-sheet:target [data-close-sheet]");
    if (open) { open.click(); }
  });

  // ---------------------------------------------------------------- plate correction
  var GROUPS = ["0ODQ", "1IL", "2Z", "5S", "6G", "8B"];
  function lookalike(a, b) {
    return GROUPS.some(function (g) { return g.indexOf(a) >= 0 && g.indexOf(b) >= 0; });
  }
  var plateForm = $("plate-form");
  if (plateForm) {
    var input = plateForm.elements.plate, hint = $("lookalike-hint");
    var read = plateForm.dataset.read;
    input.addEventListener("input", function () {
      var typed = input.value.toUpperCase().replace(/[-. ]/g, "");
      if (!typed || typed === read) { hint.textContent = ""; return; }
      var onlyLookalikes = typed.length === read.length && typed.split("").every(function (ch, i) {
        return ch === read[i] || lookalike(ch, read[i]);
      });
      hint.textContent = onlyLookalikes
        ? "Verschilt alleen in tekens die op elkaar lijken (zoals 0 en O, 8 en B)."
        : "Let op: dit wijkt meer af dan tekens die op elkaar lijken. Vink hieronder aan dat u het gecontroleerd heeft.";
      hint.classList.toggle("app-warning-text", !onlyLookalikes);
    });
  }

  // ---------------------------------------------------------------- the photo viewer
  var stage = $("viewer-stage"), viewer = $("viewer");
  if (stage && viewer) {
    var img = $("viewer-img");
    stage.addEventListener("click", function (ev) {
      var box = img.getBoundingClientRect();
      var zoomed = stage.classList.toggle("app-viewer__stage--zoomed");
      if (zoomed) {  // keep the tapped spot under the finger
        var fx = (ev.clientX - box.left) / box.width, fy = (ev.clientY - box.top) / box.height;
        stage.scrollLeft = fx * stage.scrollWidth - stage.clientWidth / 2;
        stage.scrollTop = fy * stage.scrollHeight - stage.clientHeight / 2;
      }
      $("viewer-hint").textContent = zoomed ? "Tik nogmaals om uit te zoomen." :
        "Tik op de foto om in te zoomen; knijp met twee vingers om verder te zoomen.";
    });
    stage.addEventListener("keydown", function (ev) {
      if (ev.key !== "Enter" && ev.key !== " ") { return; }
      ev.preventDefault();
      var box = img.getBoundingClientRect();
      stage.dispatchEvent(new MouseEvent("click", { clientX: box.left + box.width / 2,
                                                   clientY: box.top + box.height / 2 }));
    });
    var x0 = null;
    stage.addEventListener("touchstart", function (ev) {
      x0 = ev.touches.length === 1 ? ev.touches[0].clientX : null;
    }, { passive: true });
    stage.addEventListener("touchend", function (ev) {
      if (x0 === null || stage.classList.contains("app-viewer__stage--zoomed")) { return; }
      var dx = ev.changedTouches[0].clientX - x0;
      var to = dx > 60 ? viewer.dataset.prev : dx < -60 ? viewer.dataset.next : "";
      if (to) { window.location.replace(to); }
    });
    document.addEventListener("keydown", function (ev) {
      var to = { ArrowLeft: viewer.dataset.prev, ArrowRight: viewer.dataset.next,
                 Escape: viewer.dataset.back }[ev.key];
      if (to) { window.location.replace(to); }
    });
  }

  // sharing the location with the control room while the queue is open (at most every 30 s)
  var share = $("share-location");
  if (share && share.getAttribute("data-sharing") === "1") {
    if (!geo) {
      share.textContent = "U deelt uw locatie, maar " + midSentence(positionProblem(null));
    } else {
      var lastSent = 0;
      geo.watchPosition(function (p) {
        var now = Date.now();
        if (now - lastSent < 30000) { return; }
        lastSent = now;
        var body = new URLSearchParams();
        body.append("csrf", share.getAttribute("data-csrf"));
        body.append("lon", String(p.coords.longitude));
        body.append("lat", String(p.coords.latitude));
        body.append("accuracy_m", String(Math.min(p.coords.accuracy || 0, 100000)));
        fetch("/ui/locatie/positie", { method: "POST", body: body, credentials: "same-origin" })
          .then(function (r) {
            if (r.status === 204) {
              var at = new Date().toLocaleTimeString("nl-NL", {
                timeZone: "Europe/Amsterdam", hour: "2-digit", minute: "2-digit"
              });
              share.textContent = "U deelt uw locatie met de meldkamer (laatst om " + at + ").";
            }
          }, function () {});
      }, function (err) {
        share.textContent = "U deelt uw locatie, maar " + midSentence(positionProblem(err));
      }, GEO_OPTIONS);
    }
  }

  // ---------------------------------------------------------------- a refused form
  // the page comes back with the problems in a summary: move there (it may sit below the
  // fold, as on a permit decision), so the user sees and hears what went wrong
  var summary = document.querySelector(".app-error-summary");
  if (summary && !window.location.hash) { summary.focus(); }
})();
