const bytes = (b64) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)).buffer;

function compileProgram(p) {
  const layers = p.layers.map((l) => {
    if (l.kind !== "dense") return { kind: l.kind, slope: l.slope };
    // Stored transposed (in, out): each input's weights are contiguous, so the zeros a ReLU
    // leaves (about half its outputs) skip a whole row.
    const w = new Float32Array(bytes(l.weight)), wt = new Float32Array(w.length);
    for (let o = 0; o < l.n_out; o++) {
      for (let i = 0; i < l.n_in; i++) wt[i * l.n_out + o] = w[o * l.n_in + i];
    }
    return { kind: "dense", nIn: l.n_in, nOut: l.n_out, wt, b: new Float32Array(bytes(l.bias)),
             acc: new Float64Array(l.n_out), out: new Float32Array(l.n_out) };
  });
  return { latentDim: p.latent_dim, shape: p.output_shape, layers };
}

// explorer.figures.live.run_program: sums in double, each layer's output rounded to float32.
function decode(prog, z) {
  let h = Float32Array.from(z);
  for (const l of prog.layers) {
    if (l.kind === "dense") {
      const { nIn, nOut, wt, b, acc, out } = l;
      for (let o = 0; o < nOut; o++) acc[o] = b[o];
      for (let i = 0; i < nIn; i++) {
        const v = h[i];
        if (v === 0) continue;
        const row = i * nOut;
        for (let o = 0; o < nOut; o++) acc[o] += v * wt[row + o];
      }
      out.set(acc);
      h = out;
    } else if (l.kind === "relu") {
      for (let i = 0; i < h.length; i++) if (h[i] < 0) h[i] = 0;
    } else if (l.kind === "leaky_relu") {
      for (let i = 0; i < h.length; i++) if (h[i] < 0) h[i] *= l.slope;
    } else if (l.kind === "tanh") {
      for (let i = 0; i < h.length; i++) h[i] = Math.tanh(h[i]);
    } else if (l.kind === "sigmoid") {
      for (let i = 0; i < h.length; i++) h[i] = 1 / (1 + Math.exp(-Math.min(80, Math.max(-80, h[i]))));
    }
  }
  return h;
}

function compileMap(m) {
  const out = { ...m, points: new Float32Array(bytes(m.points)) };
  if (m.kind === "linear") {
    out.mean = new Float64Array(bytes(m.mean));
    out.components = new Float64Array(bytes(m.components));
  }
  if (m.kind === "idw") out.codes = new Float32Array(bytes(m.codes));
  return out;
}

// The k nearest map points to (x, y), nearest first: [indices, distances].
function nearest(map, x, y, k) {
  const idx = new Int32Array(k).fill(-1), d2 = new Float64Array(k).fill(Infinity);
  const p = map.points;
  for (let n = 0; n < map.n; n++) {
    const dx = p[2 * n] - x, dy = p[2 * n + 1] - y, d = dx * dx + dy * dy;
    if (d >= d2[k - 1]) continue;
    let j = k - 1;
    while (j > 0 && d2[j - 1] > d) { d2[j] = d2[j - 1]; idx[j] = idx[j - 1]; j--; }
    d2[j] = d; idx[j] = n;
  }
  return [idx, Array.from(d2, Math.sqrt)];
}

// explorer.projection.sphere.inverse_hammer for one point.
function inverseHammer(x, y) {
  const r = Math.max(Math.sqrt((x / (2 * Math.SQRT2)) ** 2 + (y / Math.SQRT2) ** 2), 1);
  x /= r; y /= r;
  const z = Math.sqrt(Math.max(1 - (x / 4) ** 2 - (y / 2) ** 2, 0));
  const lon = 2 * Math.atan2(z * x, 2 * (2 * z * z - 1));
  const lat = Math.asin(Math.min(1, Math.max(-1, z * y)));
  return [Math.cos(lat) * Math.cos(lon), Math.cos(lat) * Math.sin(lon), Math.sin(lat)];
}

// The code for map point (x, y): what resources.click_inverse gives the server (float32).
function inverse(map, x, y) {
  const d = map.latent_dim;
  if (map.kind === "raw") return Float32Array.of(x, y);
  if (map.kind === "hammer") return Float32Array.from(inverseHammer(x, y));
  const z = new Float32Array(d);
  if (map.kind === "linear") {
    const c = map.components;
    for (let j = 0; j < d; j++) z[j] = x * c[j] + y * c[d + j] + map.mean[j];
    return z;
  }
  // projection.IdwMap: inverse-distance-squared weights over the k nearest points.
  const [idx, dist] = nearest(map, x, y, map.k);
  const w = dist.map((r) => 1 / Math.max(r, map.eps) ** 2);
  const total = w.reduce((a, b) => a + b, 0);
  const acc = new Float64Array(d);
  for (let n = 0; n < map.k; n++) {
    const row = idx[n] * d, wn = w[n] / total;
    for (let j = 0; j < d; j++) acc[j] += wn * map.codes[row + j];
  }
  for (let j = 0; j < d; j++) z[j] = acc[j];
  return z;
}

// projection.TrustIndex.query and live_map.trust_level for one point.
function trust(map, x, y) {
  const distance = nearest(map, x, y, 1)[1][0] / map.spacing;
  const p = map.points;
  let inside = true;
  if (map.hull) {  // counter-clockwise corners: inside is left of every edge
    const h = map.hull;
    for (let i = 0; i < h.length && inside; i++) {
      const a = h[i], b = h[(i + 1) % h.length];
      const ax = p[2 * a], ay = p[2 * a + 1];
      inside = (p[2 * b] - ax) * (y - ay) - (p[2 * b + 1] - ay) * (x - ax) >= 0;
    }
  } else {
    let lo = [Infinity, Infinity], hi = [-Infinity, -Infinity];
    for (let n = 0; n < map.n; n++) for (let j = 0; j < 2; j++) {
      lo[j] = Math.min(lo[j], p[2 * n + j]); hi[j] = Math.max(hi[j], p[2 * n + j]);
    }
    inside = x >= lo[0] && x <= hi[0] && y >= lo[1] && y <= hi[1];
  }
  const offMap = map.kind === "hammer" && (x / (2 * Math.SQRT2)) ** 2 + (y / Math.SQRT2) ** 2 > 1;
  const level = offMap ? "poor" : inside && distance < map.good_within ? "good"
    : inside || distance < map.doubtful_within ? "doubtful" : "poor";
  return { distance, inside, level, offMap };
}

function draw(canvas, prog, x) {
  const [c, hgt, wid] = prog.shape.length === 3 ? prog.shape : [1, ...prog.shape];
  if (canvas.width !== wid || canvas.height !== hgt) { canvas.width = wid; canvas.height = hgt; }
  const ctx = canvas.getContext("2d");
  const img = ctx.createImageData(wid, hgt), px = img.data, plane = hgt * wid;
  for (let i = 0; i < plane; i++) {
    for (let ch = 0; ch < 3; ch++) {
      const v = x[(c === 3 ? ch : 0) * plane + i];
      px[4 * i + ch] = Math.round(255 * Math.min(1, Math.max(0, v)));
    }
    px[4 * i + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}

// lerp / slerp of explorer.latent for one t.
function pathPoint(z0, z1, t, path) {
  const d = z0.length, out = new Float32Array(d);
  const norm = (z) => Math.sqrt(z.reduce((a, v) => a + v * v, 0));
  const n0 = norm(z0), n1 = norm(z1);
  let omega = 0;
  if (path === "spherical" && n0 >= 1e-8 && n1 >= 1e-8) {
    let cos = 0;
    for (let j = 0; j < d; j++) cos += (z0[j] / n0) * (z1[j] / n1);
    omega = Math.acos(Math.min(1, Math.max(-1, cos)));
  }
  if (omega < 1e-4 || Math.PI - omega < 1e-4) {
    for (let j = 0; j < d; j++) out[j] = (1 - t) * z0[j] + t * z1[j];
    return out;
  }
  const s = Math.sin(omega), norm_t = (1 - t) * n0 + t * n1;
  for (let j = 0; j < d; j++) {
    out[j] = ((Math.sin((1 - t) * omega) * z0[j] / n0 + Math.sin(t * omega) * z1[j] / n1) / s) * norm_t;
  }
  return out;
}

// A panel's sliders, decoded in the page while they move: Streamlit sends a slider's value
// when the drag ends; until then only the slider's own input moves, and the panel's image
// (the one captioned data.caption) shows the page's decode of the code those values give.
function follow(L, f, parentElement) {
  parentElement.querySelector(".le-live").style.display = "none";
  L.follows = L.follows || [];
  const canvas = document.createElement("canvas");
  let root = null, raf = 0;
  // Streamlit's (react-aria) slider keeps a visually hidden range input in step with the thumb.
  const slider = (label) => root.querySelector(`input[type="range"][aria-label="${label}"]`);
  const update = () => {
    raf = 0;
    const prog = L.programs[f.program_id];
    if (!prog || !root) return;
    const values = f.labels.map((label) => {
      const s = slider(label);
      return s && Number(s.value);
    });
    if (values.some((v) => v === null || !Number.isFinite(v))) return;
    const r = f.recipe;
    const z = r.kind === "path" ? pathPoint(r.za, r.zb, values[0], r.path)
      : Float32Array.from(r.base);
    if (r.kind === "dims") r.dims.forEach((dim, i) => { z[dim] = values[i]; });
    const out = decode(prog, z);
    const img = [...root.querySelectorAll('[data-testid="stImage"]')].find((el) => {
      const cap = el.querySelector('[data-testid="stImageCaption"]');
      return cap && cap.innerText.trim().startsWith(f.caption);
    });
    const target = img && img.querySelector("img");
    if (!target) return;
    draw(canvas, prog, out);
    const big = document.createElement("canvas");  // the server's nearest-neighbour zoom
    big.width = canvas.width * f.scale; big.height = canvas.height * f.scale;
    const pen = big.getContext("2d");
    pen.imageSmoothingEnabled = false;
    pen.drawImage(canvas, 0, 0, big.width, big.height);
    target.src = big.toDataURL();
    L.follows.push({ values, drawn: performance.now() });
    if (L.follows.length > MAX_FRAMES) L.follows.splice(0, L.follows.length - MAX_FRAMES);
  };
  const observer = new MutationObserver(() => { if (!raf) raf = requestAnimationFrame(update); });
  const attach = () => {
    const now = document.querySelector(`.st-key-${f.container}`);
    if (now && now !== root) {
      observer.disconnect();
      root = now;
      observer.observe(root, { subtree: true, attributes: true,
                               attributeFilter: ["value", "aria-valuetext"] });
    }
  };
  const timer = setInterval(attach, 500);
  attach();
  return () => { clearInterval(timer); observer.disconnect(); if (raf) cancelAnimationFrame(raf); };
}

const COLORS = { good: "#2e7d32", doubtful: "#ef6c00", poor: "#c62828" };
const MAX_FRAMES = 2000;
const MAX_PROGRAMS = 4;

export default function (component) {
  const { data, parentElement } = component;
  const L = window.__leLive || (window.__leLive = { programs: {}, maps: {}, frames: [] });
  if (data.role === "program") {
    parentElement.querySelector(".le-live").style.display = "none";
    if (!L.programs[data.id]) {
      const ids = Object.keys(L.programs);  // a few models' weights at most, newest kept
      if (ids.length >= MAX_PROGRAMS) delete L.programs[ids[0]];
      L.programs[data.id] = compileProgram(data.program);
    }
    return;
  }
  if (data.role === "follow") return follow(L, data, parentElement);
  if (!L.maps[data.map_id]) L.maps = { [data.map_id]: compileMap(data.map) };  // keep one
  const view = { programId: data.program_id, map: L.maps[data.map_id], scale: data.scale,
                 canvas: parentElement.querySelector(".le-live-canvas"),
                 cap: parentElement.querySelector(".le-live-cap"),
                 trustBox: parentElement.querySelector(".le-live-trust") };
  L.view = view;
  const [hgt, wid] = data.shape.slice(-2);  // the canvas at its final size before any move
  if (view.canvas.width !== wid || view.canvas.height !== hgt) {
    view.canvas.width = wid;
    view.canvas.height = hgt;
  }
  view.canvas.style.width = view.canvas.width * view.scale + "px";
  view.canvas.style.height = view.canvas.height * view.scale + "px";
  L.ready = () => !!(L.view && L.programs[L.view.programId]);
  L.decode = (z) => Array.from(decode(L.programs[L.view.programId], z));
  L.inverse = (x, y) => Array.from(inverse(L.view.map, x, y));
  L.trust = (x, y) => trust(L.view.map, x, y);

  if (!L.onMove) {
    // Once per window, reading L.view at each move: pointer moves only note the latest
    // position (and when the first not yet drawn one came); one animation frame decodes it.
    L.pending = null;
    L.frame = 0;
    L.render = () => {
      L.frame = 0;
      const v = L.view, prog = v && L.programs[v.programId], move = L.pending;
      if (!move || !prog) return;
      L.pending = null;
      const { x, y } = move;
      const out = decode(prog, inverse(v.map, x, y));
      draw(v.canvas, prog, out);
      v.canvas.style.width = v.canvas.width * v.scale + "px";
      v.canvas.style.height = v.canvas.height * v.scale + "px";
      const t = trust(v.map, x, y);
      v.cap.textContent = `decoded at (${x.toFixed(2)}, ${y.toFixed(2)})`;
      v.trustBox.innerHTML = `<b style="background:${COLORS[t.level]}">Trust: ${t.level}</b> ` +
        `${t.distance.toFixed(1)}× the typical spacing from the nearest encoding, ` +
        `${t.inside ? "inside" : "outside"} the data's hull` + (t.offMap ? ", off the sphere" : "");
      L.frames.push({ t0: move.t0, handled: move.handled, drawn: performance.now() });
      if (L.frames.length > MAX_FRAMES) L.frames.splice(0, L.frames.length - MAX_FRAMES);
    };
    L.onMove = (e) => {
      const gd = e.currentTarget, fl = gd._fullLayout;
      if (!L.view || !fl || !fl.xaxis || !fl.yaxis || fl.scene) return;
      const rect = gd.getBoundingClientRect();
      const px = e.clientX - rect.left - fl._size.l, py = e.clientY - rect.top - fl._size.t;
      if (px < 0 || py < 0 || px > fl.xaxis._length || py > fl.yaxis._length) return;
      const first = L.pending || { t0: e.timeStamp, handled: performance.now() };
      L.pending = { x: fl.xaxis.p2l(px), y: fl.yaxis.p2l(py), t0: first.t0, handled: first.handled };
      if (!L.frame) L.frame = requestAnimationFrame(L.render);
    };
  }
  const attach = () => {
    const gd = document.querySelector(`.st-key-${data.target} .js-plotly-plot`);
    if (gd && !gd.__leLive) {  // a redrawn chart is a new div: attach to it once
      gd.addEventListener("pointermove", L.onMove, { passive: true });
      gd.__leLive = true;
    }
  };
  const timer = setInterval(attach, 500);
  attach();
  return () => {
    clearInterval(timer);
    if (L.view === view) L.view = null;
  };
}
