// The playground page: controls -> messages over one WebSocket; frames -> pictures.
// The server owns the truth (state, model, data); the page draws what it receives.
"use strict";

const $ = id => document.getElementById(id);
const LRS = [0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10];
const RATES = [0, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10];
const DROPOUTS = [0, 0.1, 0.2, 0.3, 0.5];
const pg = window.pg = { frames: 0, last: null, state: null, errors: [], exported: null, seeds: null, points: null,
                         choices: null, presets: {}, connected: false };
let ws, neuronCanvases = [], inputCanvases = [], nodeCols = [], structureKey = "";

function send(msg) { if (ws && ws.readyState === 1) ws.send(JSON.stringify(msg)); }
function set(changes) { send({ type: "set", state: changes }); }

function options(sel, values, labels) {
  sel.innerHTML = values.map((v, i) => `<option value="${v}">${labels ? labels[i] : v}</option>`).join("");
}

function showError(text) {
  pg.errors.push(text);
  const el = $("error");
  el.textContent = text;
  el.hidden = false;
  clearTimeout(showError.t);
  showError.t = setTimeout(() => { el.hidden = true; }, 8000);
}

// ---- controls --------------------------------------------------------------------------------
function initControls(choices, presets) {
  options($("optimizer"), choices.optimizers);
  options($("lr"), LRS);
  options($("schedule"), choices.schedules);
  options($("activation"), ["", ...choices.activations], ["(mixed)", ...choices.activations]);
  options($("init"), ["", ...choices.inits], ["(mixed)", ...choices.inits]);
  options($("reg"), choices.regularization);
  options($("reg-rate"), RATES);
  options($("loss"), choices.losses);
  options($("click-class"), [0, 1, 2, 3, 4, 5]);
  for (const [name, p] of Object.entries(presets)) {
    const o = document.createElement("option");
    o.value = name; o.textContent = p.label;
    $("preset").appendChild(o);
  }
  $("datasets").innerHTML = choices.datasets.map(d => `<button data-name="${d}" id="ds-${d}">${d}</button>`).join("");
  $("features").innerHTML = choices.features.map(
    f => `<label><input type="checkbox" id="feat-${f}" data-name="${f}"> ${f}</label>`).join("");

  $("play").onclick = () => send({ type: pg.last && pg.last.playing ? "pause" : "play" });
  $("step").onclick = () => send({ type: "step", n: 1 });
  $("reset").onclick = () => send({ type: "reset" });
  $("optimizer").onchange = e => set({ optimizer: e.target.value });
  $("lr").onchange = e => set({ lr: Number(e.target.value) });
  $("schedule").onchange = e => set({ schedule: e.target.value });
  $("reg").onchange = e => set({ regularization: e.target.value });
  $("reg-rate").onchange = e => set({ reg_rate: Number(e.target.value) });
  $("loss").onchange = e => set({ loss: e.target.value });
  $("activation").onchange = e => e.target.value &&
    set({ layers: pg.state.layers.map(l => ({ ...l, activation: e.target.value })) });
  $("init").onchange = e => e.target.value &&
    set({ layers: pg.state.layers.map(l => ({ ...l, init: e.target.value })), output_init: e.target.value });
  $("preset").onchange = e => e.target.value && set(presets[e.target.value].state);
  $("datasets").onclick = e => e.target.dataset.name && set({ dataset: e.target.dataset.name });
  $("features").onchange = () => set({ features: [...document.querySelectorAll("#features input:checked")]
                                         .map(i => i.dataset.name) });
  for (const [id, key] of [["noise", "noise"], ["ratio", "train_ratio"], ["batch", "batch_size"], ["samples", "n_samples"]]) {
    $(id).oninput = e => { $(id + "-v").textContent = e.target.value; };
    $(id).onchange = e => set({ [key]: Number(e.target.value) });
  }
  $("seed").onchange = e => set({ seed: Number(e.target.value) });
  $("add-layer").onclick = () => {
    const ls = pg.state.layers, last = ls.length ? ls[ls.length - 1] : { units: 4, activation: "tanh", init: "tf_uniform",
      dropout: 0, batchnorm: false, residual: false };
    set({ layers: [...ls, { ...last }] });
  };
  $("remove-layer").onclick = () => set({ layers: pg.state.layers.slice(0, -1) });
  $("csv").onchange = e => {
    const f = e.target.files[0];
    if (!f) return;
    f.text().then(text => send({ type: "csv", text }));
    e.target.value = "";
  };
  $("output").onclick = addPoint;
  $("show-test").onchange = () => pg.last && drawOutput(pg.last);
  $("seeds").onclick = () => send({ type: "seeds", steps: Number($("seed-steps").value) });
  $("export").onclick = () => send({ type: "export" });
}

function addPoint(e) {
  if (!pg.points || pg.points.task !== "classification") { showError("points can be added to classification data only"); return; }
  const r = e.target.getBoundingClientRect(), [lo, hi] = pg.points.bounds;
  const x1 = lo + (e.clientX - r.left) / r.width * (hi - lo), x2 = hi - (e.clientY - r.top) / r.height * (hi - lo);
  const base = pg.state.dataset === "custom" ? pg.state.points : [...pg.points.train, ...pg.points.test];
  const pts = [...base, [Number(x1.toFixed(3)), Number(x2.toFixed(3)), Number($("click-class").value)]];
  set({ dataset: "custom", points: pts.slice(-pg.limits.max_points) });
}

function renderControls(st) {
  $("optimizer").value = st.optimizer;
  $("lr").value = String(st.lr);
  $("schedule").value = st.schedule;
  $("reg").value = st.regularization;
  $("reg-rate").value = String(st.reg_rate);
  $("loss").value = st.loss;
  const same = key => st.layers.length && st.layers.every(l => l[key] === st.layers[0][key]) ? st.layers[0][key] : "";
  $("activation").value = same("activation");
  $("init").value = same("init");
  for (const b of document.querySelectorAll("#datasets button")) b.classList.toggle("on", b.dataset.name === st.dataset);
  for (const f of pg.choices.features) $("feat-" + f).checked = st.features.includes(f);
  for (const [id, key] of [["noise", "noise"], ["ratio", "train_ratio"], ["batch", "batch_size"], ["samples", "n_samples"]]) {
    $(id).value = st[key];
    $(id + "-v").textContent = st[key];
  }
  $("seed").value = st.seed;
  $("layer-count").textContent = st.layers.length;
  const key = JSON.stringify([st.layers, st.features]);
  if (key !== structureKey) { structureKey = key; renderNetwork(st); }
  history.replaceState(null, "", "#s=" + encodeURIComponent(JSON.stringify(st)));
}

// ---- the network: one column per layer, a canvas per neuron, options under each layer ------------
function layerControls(l, i) {
  const sel = (cls, vals, cur) => `<select class="${cls}" data-i="${i}">` +
    vals.map(v => `<option${String(v) === String(cur) ? " selected" : ""}>${v}</option>`).join("") + "</select>";
  return `<div class="opts">${sel("l-act", pg.choices.activations, l.activation)}${sel("l-init", pg.choices.inits, l.init)}` +
    `<label>drop ${sel("l-drop", DROPOUTS, l.dropout)}</label>` +
    `<label><input type="checkbox" class="l-bn" data-i="${i}"${l.batchnorm ? " checked" : ""}> batch norm</label>` +
    `<label><input type="checkbox" class="l-res" data-i="${i}"${l.residual ? " checked" : ""}> residual</label></div>`;
}

function renderNetwork(st) {
  const cols = $("columns");
  let html = `<div class="layer inputs"><div class="units">inputs</div>` +
    st.features.map((f, k) => `<canvas class="neuron" width="20" height="20" data-f="${k}" title="${f}"></canvas>` +
                               `<div class="flabel">${f}</div>`).join("") + "</div>";
  st.layers.forEach((l, i) => {
    html += `<div class="layer" data-i="${i}"><div class="units"><button class="u-minus" data-i="${i}">&minus;</button>` +
      `${l.units} <button class="u-plus" data-i="${i}">+</button></div>` +
      Array.from({ length: l.units }, (_, j) => `<canvas class="neuron" width="20" height="20" data-l="${i}" data-j="${j}"></canvas>`).join("") +
      layerControls(l, i) + "</div>";
  });
  html += `<div class="layer outputs"><div class="units">output</div><canvas class="neuron" id="out-node" width="20" height="20"></canvas></div>`;
  cols.innerHTML = html;
  neuronCanvases = st.layers.map((_, i) => [...cols.querySelectorAll(`canvas[data-l="${i}"]`)]);
  inputCanvases = [...cols.querySelectorAll(".inputs .neuron")];
  nodeCols = [inputCanvases, ...neuronCanvases, [$("out-node")]];
  const edit = (i, f) => set({ layers: pg.state.layers.map((l, k) => k === i ? f({ ...l }) : l) });
  cols.onclick = e => {
    const i = Number(e.target.dataset.i);
    if (e.target.classList.contains("u-plus")) edit(i, l => ({ ...l, units: Math.min(pg.limits.max_units, l.units + 1) }));
    if (e.target.classList.contains("u-minus")) edit(i, l => ({ ...l, units: Math.max(1, l.units - 1) }));
  };
  cols.onchange = e => {
    const t = e.target, i = Number(t.dataset.i);
    if (t.classList.contains("l-act")) edit(i, l => ({ ...l, activation: t.value }));
    if (t.classList.contains("l-init")) edit(i, l => ({ ...l, init: t.value }));
    if (t.classList.contains("l-drop")) edit(i, l => ({ ...l, dropout: Number(t.value) }));
    if (t.classList.contains("l-bn")) edit(i, l => ({ ...l, batchnorm: t.checked }));
    if (t.classList.contains("l-res")) edit(i, l => ({ ...l, residual: t.checked }));
  };
}

// ---- frames ----------------------------------------------------------------------------------
function drawOutput(f) {
  const o = f.output, c = $("output");
  if (!o) return;
  drawMap(c, o.size, b64bytes(o.data), o.classes ? b64bytes(o.classes) : null, pg.points ? pg.points.n_classes : 2);
  if (pg.points) {
    drawPoints(c, pg.points.train, pg.points.bounds, pg.points.task, "#fff");
    if ($("show-test").checked) drawPoints(c, pg.points.test, pg.points.bounds, pg.points.task, "#000");
  }
  drawMap($("out-node"), o.size, b64bytes(o.data), o.classes ? b64bytes(o.classes) : null, pg.points ? pg.points.n_classes : 2);
}

function fmt(v) { return v === null || v === undefined ? "–" : Math.abs(v) < 1e-3 && v !== 0 ? v.toExponential(1) : v.toFixed(3); }

function gradCell(v, maxLog) {
  if (v === null || v === undefined) return "<td>–</td>";
  const w = Math.max(2, 70 - (maxLog - Math.log10(v || 1e-30)) * 9);
  return `<td><span class="bar" style="width:${w}px"></span>${v.toExponential(1)}</td>`;
}

function drawDiagnostics(d) {
  const rows = d.layers, logs = rows.flatMap(r => [r.grad_first, r.grad_norm]).filter(v => v).map(Math.log10);
  const maxLog = logs.length ? Math.max(...logs) : 0;
  $("grad-table").tBodies[0].innerHTML = rows.map((r, i) =>
    `<tr data-grad="${r.grad_norm ?? ""}" data-grad-first="${r.grad_first ?? ""}" data-name="${r.name}">` +
    `<td>${i === rows.length - 1 ? "output" : i + 1}. ${r.type}</td>${gradCell(r.grad_first, maxLog)}${gradCell(r.grad_norm, maxLog)}` +
    `<td>${r.grad_rel === null ? "–" : r.grad_rel.toExponential(1)}</td><td>${r.update_ratio === null ? "–" : r.update_ratio.toExponential(1)}</td></tr>`
  ).join("");
  $("act-table").tBodies[0].innerHTML = d.activations.map(a =>
    `<tr><td>${a.name} ${a.type}</td><td>${fmt(a.dead)}</td><td>${fmt(a.saturated)}</td><td>${fmt(a.std)}</td></tr>`).join("");
  $("findings").innerHTML = d.findings.length ? d.findings.map(f =>
    `<li class="${f.severity}" data-kind="${f.kind}"><b>${f.kind}</b> (${f.severity}): ${f.message} <span class="fix">fix: ${f.fix}</span></li>`).join("")
    : d.step === null ? "<li>no probe samples yet: press play or step</li>"
    : "<li>no findings: gradients, activations and updates look healthy</li>";
}

function onFrame(f) {
  pg.frames += 1;
  pg.last = f;
  $("step-count").textContent = f.step;
  $("train-loss").textContent = fmt(f.train_loss);
  $("test-loss").textContent = fmt(f.test_loss);
  $("play").innerHTML = f.playing ? "&#x275a;&#x275a; pause" : "&#x25b6; play";
  $("status").textContent = f.diverged ? "stopped: " + f.diverged : f.playing ? "training…" : "paused";
  drawCurve($("curve"), f.history);
  if (f.output) {
    drawOutput(f);
    const drawUnits = (maps, canvases) => {
      const bytes = b64bytes(maps.data), n = maps.size * maps.size;
      (canvases || []).forEach((c, j) => drawMap(c, maps.size, bytes.subarray(j * n, (j + 1) * n), null, 2));
    };
    drawUnits(f.inputs, inputCanvases);
    f.neurons.forEach((layer, i) => drawUnits(layer, neuronCanvases[i]));
    drawEdges($("edges"), $("network"), nodeCols, f.weights);
  }
  drawDiagnostics(f.diagnostics);
  send({ type: "ack" });  // drawn: the server sends the next frame only when the page keeps up
}

function onSeeds(m) {
  pg.seeds = m;
  const ok = m.train_loss.filter(v => v !== null && v < 0.1).length;
  let html = `<div style="grid-column: 1 / -1">${m.mode} run of ${m.seeds.length} seeds × ${m.steps} steps in ${m.seconds} s: ` +
    `<b>${ok} of ${m.seeds.length}</b> reach training loss &lt; 0.1</div>`;
  m.maps.forEach((_, k) => {
    html += `<div><canvas width="${m.size}" height="${m.size}" data-k="${k}"></canvas><br>seed ${m.seeds[k]}: ` +
      `loss ${fmt(m.train_loss[k])}${m.train_accuracy[k] !== null ? ", acc " + fmt(m.train_accuracy[k]) : ""}</div>`;
  });
  $("seeds-out").innerHTML = html;
  m.maps.forEach((d, k) => drawMap($("seeds-out").querySelector(`canvas[data-k="${k}"]`), m.size, b64bytes(d), null, 2));
  $("seeds").disabled = false;
}

function onExport(m) {
  pg.exported = m;
  $("export-out").hidden = false;
  $("export-yaml").textContent = m.yaml;
  $("export-cmd").textContent = "$ " + m.command;
  $("export-notes").innerHTML = m.notes.map(n => `<li>${n}</li>`).join("");
  $("export-download").href = URL.createObjectURL(new Blob([m.yaml], { type: "text/yaml" }));
}

function connect() {
  ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws");
  ws.onopen = () => { pg.connected = true; $("status").textContent = "connected"; };
  ws.onclose = () => { pg.connected = false; $("status").textContent = "disconnected: reload the page"; };
  ws.onmessage = ev => {
    const m = JSON.parse(ev.data);
    if (m.type === "hello") {
      pg.choices = m.choices; pg.limits = m.limits; pg.presets = m.presets;
      initControls(m.choices, m.presets);
      if (location.hash.startsWith("#s=")) {
        try { send({ type: "set", state: JSON.parse(decodeURIComponent(location.hash.slice(3))) }); }
        catch (e) { showError("the state in the URL is not readable: " + e.message); }
      }
    } else if (m.type === "state") { pg.state = m.state; renderControls(m.state); }
    else if (m.type === "data") { pg.points = m; $("seeds-out").innerHTML = ""; $("export-out").hidden = true; }
    else if (m.type === "frame") onFrame(m);
    else if (m.type === "error") {  // put the controls back to the state the server holds
      showError(m.message);
      if (pg.state) { structureKey = ""; renderControls(pg.state); }
    }
    else if (m.type === "export") onExport(m);
    else if (m.type === "seeds_started") { $("seeds").disabled = true; $("seeds-out").textContent = `training 8 seeds × ${m.steps} steps…`; }
    else if (m.type === "seeds") onSeeds(m);
  };
}

connect();
