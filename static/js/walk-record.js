// Recording an observation during a walk, on top of a form that works without JavaScript:
// (1) each fresh form gets an id made on the device (the same submission sent twice, or later
//     from the field-mode outbox, is recorded once),
// (2) "Use my position" (the device's GPS) and a tap on the walk's own map fill the hidden
//     lat/lon fields; the map is never required (a stop or an address work without it),
// (3) a photo picker: the camera gives one photo at a time, so photos are added one by one,
//     shown with their caption field, and big ones are shrunk before sending (a phone's photo
//     is several MB; a street's mobile connection is slow).
// On a staff tablet the form is also marked for the field-mode outbox (static/js/outbox.js):
// the observation is then kept on the device and sent later; (4) below empties the form after.
// The server checks everything again.
(function () {
  "use strict";

  var form = document.getElementById("record-form");
  if (!form) { return; }

  function msg(name, values) {
    var text = form.getAttribute("data-msg-" + name) || "";
    Object.keys(values || {}).forEach(function (k) { text = text.split("{" + k + "}").join(String(values[k])); });
    return text;
  }

  // --- (1) the submission's id ----------------------------------------------------------
  var idField = form.querySelector("[data-client-id]");
  if (idField && idField.hasAttribute("data-fresh") && window.crypto && typeof window.crypto.randomUUID === "function") {
    idField.value = window.crypto.randomUUID();
  }

  // --- (2) where ------------------------------------------------------------------------
  var R = 6378137; // Web Mercator, as participation/walks/geo.py
  var SVG_NS = "http://www.w3.org/2000/svg";
  var lat = form.querySelector("[data-lat]");
  var lon = form.querySelector("[data-lon]");
  var accuracy = form.querySelector("[data-accuracy]");
  var source = form.querySelector("[data-source]");
  var status = form.querySelector("[data-position-status]");
  var clear = form.querySelector("[data-position-clear]");
  var mapBox = form.querySelector("[data-record-map]");
  var svg = mapBox ? mapBox.querySelector("svg") : null;
  var marker = null;

  function say(text) { if (status) { status.textContent = text; } }

  // The projection of the map as drawn by the server (geo.Frame), from its data- attributes.
  function frame() {
    if (!svg) { return null; }
    var d = svg.dataset;
    var f = {
      minX: parseFloat(d.minX), minY: parseFloat(d.minY), scale: parseFloat(d.scale),
      offsetX: parseFloat(d.offsetX), offsetY: parseFloat(d.offsetY),
      width: parseFloat(d.width), height: parseFloat(d.height)
    };
    var ok = Object.keys(f).every(function (k) { return isFinite(f[k]); }) && f.scale > 0;
    return ok ? f : null;
  }

  // Drawing units → latitude/longitude: the inverse of geo.Frame.project.
  function toPosition(f, px, py) {
    var x = f.minX + (px - f.offsetX) / f.scale;
    var y = f.minY + (f.height - py - f.offsetY) / f.scale;
    return {
      lat: (2 * Math.atan(Math.exp(y / R)) - Math.PI / 2) * 180 / Math.PI,
      lon: x / R * 180 / Math.PI
    };
  }

  function toPoint(f, la, lo) {
    var rad = Math.max(Math.min(la, 85.0511), -85.0511) * Math.PI / 180;
    var x = lo * Math.PI / 180 * R;
    var y = Math.log(Math.tan(Math.PI / 4 + rad / 2)) * R;
    return { x: f.offsetX + (x - f.minX) * f.scale, y: f.height - (f.offsetY + (y - f.minY) * f.scale) };
  }

  function removeMarker() {
    if (marker) { marker.parentNode.removeChild(marker); marker = null; }
  }

  function drawMarker(la, lo) {
    var f = frame();
    if (!f) { return; }
    var p = toPoint(f, la, lo);
    if (p.x < 0 || p.y < 0 || p.x > f.width || p.y > f.height) { removeMarker(); return; }
    if (!marker) {
      marker = document.createElementNS(SVG_NS, "g");
      marker.setAttribute("class", "walk-map-point is-new");
      marker.appendChild(document.createElementNS(SVG_NS, "circle")).setAttribute("r", "11");
      var plus = marker.appendChild(document.createElementNS(SVG_NS, "text"));
      plus.setAttribute("text-anchor", "middle");
      plus.textContent = "+";
      svg.appendChild(marker);
    }
    marker.firstChild.setAttribute("cx", p.x.toFixed(2));
    marker.firstChild.setAttribute("cy", p.y.toFixed(2));
    marker.lastChild.setAttribute("x", p.x.toFixed(2));
    marker.lastChild.setAttribute("y", (p.y + 4).toFixed(2));
  }

  function setPosition(la, lo, metres, how, text) {
    lat.value = la.toFixed(6);
    lon.value = lo.toFixed(6);
    accuracy.value = metres == null ? "" : String(Math.round(metres));
    source.value = how;
    say(text);
    if (clear) { clear.hidden = false; }
    drawMarker(la, lo);
  }

  if (lat && lon && accuracy && source) {
    if (clear) {
      clear.addEventListener("click", function () {
        lat.value = lon.value = accuracy.value = source.value = "";
        removeMarker();
        clear.hidden = true;
        say(msg("cleared"));
      });
    }

    var gps = form.querySelector("[data-gps]");
    var gpsButton = form.querySelector("[data-gps-button]");
    // Browsers give a position only to secure pages (https, or this machine).
    if (gps && gpsButton && navigator.geolocation && window.isSecureContext) {
      gps.hidden = false;
      gpsButton.addEventListener("click", function () {
        say(msg("locating"));
        gpsButton.disabled = true;
        navigator.geolocation.getCurrentPosition(function (position) {
          gpsButton.disabled = false;
          var c = position.coords;
          setPosition(c.latitude, c.longitude, c.accuracy, "gps", msg("found", { metres: Math.round(c.accuracy) }));
        }, function (error) {
          gpsButton.disabled = false;
          say(msg(error.code === 1 ? "denied" : error.code === 3 ? "timeout" : "unavailable"));
        }, { enableHighAccuracy: true, timeout: 20000, maximumAge: 30000 });
      });
    }

    if (mapBox && svg && frame() && typeof svg.createSVGPoint === "function") {
      mapBox.hidden = false;
      svg.addEventListener("click", function (event) {
        var f = frame();
        var matrix = svg.getScreenCTM();
        if (!f || !matrix) { return; }
        var pt = svg.createSVGPoint();
        pt.x = event.clientX;
        pt.y = event.clientY;
        var p = pt.matrixTransform(matrix.inverse());
        var pos = toPosition(f, p.x, p.y);
        setPosition(pos.lat, pos.lon, null, "map", msg("tapped"));
      });
    }

    // The form came back (a problem to correct): show the position it already holds.
    if (lat.value && lon.value && isFinite(parseFloat(lat.value)) && isFinite(parseFloat(lon.value))) {
      say(msg("kept"));
      if (clear) { clear.hidden = false; }
      drawMarker(parseFloat(lat.value), parseFloat(lon.value));
    }
  }

  // --- (3) photos -------------------------------------------------------------------------
  var photos = form.querySelector("[data-photos]");
  var pickerBox = form.querySelector("[data-photo-picker]");
  var picker = pickerBox ? pickerBox.querySelector("input[type=file]") : null;
  var photoStatus = form.querySelector("[data-photo-status]");
  var busy = form.querySelector("[data-busy]");
  var rows = Array.prototype.slice.call(form.querySelectorAll("[data-photo-row]"));
  var side = parseInt(form.getAttribute("data-photo-side"), 10) || 1600;
  var SHRINK_ABOVE = 1024 * 1024;
  var pending = 0;
  var sendWhenReady = false;

  function canSetFiles() {
    try {
      var dt = new DataTransfer();
      return !!dt.items && typeof dt.items.add === "function";
    } catch (e) {
      return false;
    }
  }

  function fileOf(row) { return row.querySelector("input[type=file]"); }
  function hasFile(row) { var input = fileOf(row); return !!(input.files && input.files.length); }

  function refresh(row) {
    var has = hasFile(row);
    var preview = row.querySelector("[data-photo-preview]");
    var remove = row.querySelector("[data-photo-remove]");
    if (preview.src) { URL.revokeObjectURL(preview.src); preview.removeAttribute("src"); }
    if (has) { preview.src = URL.createObjectURL(fileOf(row).files[0]); }
    preview.hidden = !has;
    remove.hidden = !has;
    row.hidden = !has && !row.hasAttribute("data-reserved");
    if (!has) { row.querySelector("input[type=text]").value = ""; }
  }

  function countPhotos() {
    var n = rows.filter(hasFile).length;
    if (photoStatus) { photoStatus.textContent = n ? msg("photo-count", { count: n }) : ""; }
  }

  function setFile(row, file) {
    var dt = new DataTransfer();
    if (file) { dt.items.add(file); }
    fileOf(row).files = dt.files;
    row.removeAttribute("data-reserved");
    refresh(row);
    countPhotos();
  }

  // A big photo redrawn at most `side` pixels wide or high, as a JPEG (the server re-encodes
  // it anyway and strips what is left of its metadata). Anything unexpected: the original.
  function shrink(file) {
    if (file.size <= SHRINK_ABOVE || !/^image\/(jpeg|png|webp)$/.test(file.type) ||
        typeof window.createImageBitmap !== "function") {
      return Promise.resolve(file);
    }
    return window.createImageBitmap(file, { imageOrientation: "from-image" }).then(function (bitmap) {
      var scale = Math.min(1, side / Math.max(bitmap.width, bitmap.height));
      var canvas = document.createElement("canvas");
      canvas.width = Math.max(1, Math.round(bitmap.width * scale));
      canvas.height = Math.max(1, Math.round(bitmap.height * scale));
      var ctx = canvas.getContext("2d");
      ctx.fillStyle = "#fff";
      ctx.fillRect(0, 0, canvas.width, canvas.height);
      ctx.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
      if (bitmap.close) { bitmap.close(); }
      return new Promise(function (resolve) {
        canvas.toBlob(function (blob) {
          if (!blob || blob.size >= file.size) { resolve(file); return; }
          resolve(new File([blob], file.name.replace(/\.[^.]*$/, "") + ".jpg", { type: "image/jpeg" }));
        }, "image/jpeg", 0.85);
      });
    }).catch(function () { return file; });
  }

  function done() {
    pending -= 1;
    if (pending === 0 && sendWhenReady) {
      sendWhenReady = false;
      if (busy) { busy.textContent = ""; }
      if (typeof form.requestSubmit === "function") { form.requestSubmit(); } else { form.submit(); }
    }
  }

  function add(file) {
    var row = rows.filter(function (r) { return !hasFile(r) && !r.hasAttribute("data-reserved"); })[0];
    if (!row) {
      if (photoStatus) { photoStatus.textContent = msg("photo-full"); }
      return;
    }
    row.setAttribute("data-reserved", "");
    pending += 1;
    shrink(file).then(function (ready) { setFile(row, ready); }, function () { setFile(row, file); }).then(done, done);
  }

  if (photos && picker && rows.length && canSetFiles()) {
    photos.classList.add("js-photos");
    pickerBox.hidden = false;
    rows.forEach(function (row) {
      refresh(row);
      row.querySelector("[data-photo-remove]").addEventListener("click", function () {
        setFile(row, null);
        picker.focus();
      });
    });
    picker.addEventListener("change", function () {
      var files = Array.prototype.slice.call(picker.files || []);
      files.forEach(add);
      picker.value = "";
    });
  }

  // --- (4) kept in the outbox ------------------------------------------------------------
  // On a staff tablet the observation is kept in the field-mode outbox (static/js/outbox.js),
  // which then resets the form: the photo rows, their previews and the position go with it.
  // (A hidden input keeps a value set by script through a reset, so the position is cleared here.)
  form.addEventListener("outbox:queued", function () {
    rows.forEach(function (row) {
      fileOf(row).value = "";
      row.querySelector("input[type=text]").value = "";
      row.removeAttribute("data-reserved");
      if (photos && photos.classList.contains("js-photos")) { refresh(row); }
    });
    countPhotos();
    if (lat && lon && accuracy && source) {
      lat.value = lon.value = accuracy.value = source.value = "";
      removeMarker();
      if (clear) { clear.hidden = true; }
      say("");
    }
    if (busy) { busy.textContent = ""; }
  });

  form.addEventListener("submit", function (event) {
    if (pending > 0) {
      event.preventDefault();
      sendWhenReady = true;
      if (busy) { busy.textContent = msg("preparing"); }
      return;
    }
    var max = parseInt(form.getAttribute("data-max-bytes"), 10);
    if (max) {
      var total = 0;
      rows.forEach(function (row) { if (hasFile(row)) { total += fileOf(row).files[0].size; } });
      // Keep room for the text fields and the multipart envelope.
      if (total > max - 64 * 1024) {
        event.preventDefault();
        if (busy) { busy.textContent = msg("too-heavy"); }
      }
    }
  });
})();
