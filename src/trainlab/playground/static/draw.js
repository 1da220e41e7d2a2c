// Drawing helpers for the playground page: colours, heatmaps, points, curves, edges.
"use strict";

const NEG = [245, 147, 34], MID = [232, 234, 235], POS = [8, 119, 189];
const CLASS_COLORS = [[245, 147, 34], [8, 119, 189], [60, 170, 80], [200, 60, 160], [120, 90, 200], [90, 90, 90]];

function b64bytes(s) {
  const bin = atob(s), out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

// byte 0..255 (0 = -1 / class 0, 255 = +1 / class 1) -> [r, g, b]
function diverging(b) {
  const t = b / 127.5 - 1, a = Math.abs(t), c = t < 0 ? NEG : POS;
  return [MID[0] + (c[0] - MID[0]) * a, MID[1] + (c[1] - MID[1]) * a, MID[2] + (c[2] - MID[2]) * a];
}

function mix(c, a) {  // colour c faded towards white by confidence a in [0, 1]
  return [255 + (c[0] - 255) * a, 255 + (c[1] - 255) * a, 255 + (c[2] - 255) * a];
}

// draw a size x size byte map (and optional class map) onto canvas, scaled to fit
function drawMap(canvas, size, bytes, classes, nClasses) {
  const off = document.createElement("canvas");
  off.width = off.height = size;
  const ctx = off.getContext("2d"), img = ctx.createImageData(size, size);
  for (let i = 0; i < size * size; i++) {
    let c;
    if (classes) {
      const conf = (bytes[i] / 255 - 1 / nClasses) / (1 - 1 / nClasses);
      c = mix(CLASS_COLORS[classes[i] % CLASS_COLORS.length], Math.max(0, Math.min(1, conf)) * 0.8);
    } else {
      c = diverging(bytes[i]);
    }
    img.data[4 * i] = c[0]; img.data[4 * i + 1] = c[1]; img.data[4 * i + 2] = c[2]; img.data[4 * i + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
  const g = canvas.getContext("2d");
  g.imageSmoothingEnabled = size >= 50;
  g.drawImage(off, 0, 0, canvas.width, canvas.height);
}

function pointColor(label, task) {
  if (task === "regression") return diverging(Math.round((Math.max(-1, Math.min(1, label)) + 1) * 127.5));
  return CLASS_COLORS[label % CLASS_COLORS.length];
}

function drawPoints(canvas, pts, bounds, task, stroke) {
  const g = canvas.getContext("2d"), [lo, hi] = bounds, w = canvas.width, h = canvas.height;
  for (const [x1, x2, y] of pts) {
    const px = (x1 - lo) / (hi - lo) * w, py = (hi - x2) / (hi - lo) * h, c = pointColor(y, task);
    g.beginPath();
    g.arc(px, py, 3.2, 0, 2 * Math.PI);
    g.fillStyle = `rgb(${c[0]},${c[1]},${c[2]})`;
    g.fill();
    g.lineWidth = 1;
    g.strokeStyle = stroke;
    g.stroke();
  }
}

// loss curves: history [[step, train, test], ...]; test dark, train grey
function drawCurve(canvas, history) {
  const g = canvas.getContext("2d"), w = canvas.width, h = canvas.height;
  g.clearRect(0, 0, w, h);
  if (history.length < 2) return;
  let top = 0;
  for (const [, a, b] of history) top = Math.max(top, a || 0, b || 0);
  top = (top || 1) * 1.1;
  const s0 = history[0][0], s1 = history[history.length - 1][0] || 1;
  for (const [idx, colour] of [[1, "#999"], [2, "#222"]]) {
    g.beginPath();
    history.forEach((r, i) => {
      if (r[idx] === null) return;
      const x = (r[0] - s0) / Math.max(1, s1 - s0) * (w - 2) + 1, y = h - 2 - r[idx] / top * (h - 4);
      i ? g.lineTo(x, y) : g.moveTo(x, y);
    });
    g.strokeStyle = colour;
    g.lineWidth = 1.5;
    g.stroke();
  }
}

// edges between node centres, coloured by the weight's sign, width by its size
function drawEdges(svg, container, nodeCols, weights) {
  const box = container.getBoundingClientRect();
  svg.setAttribute("width", container.scrollWidth);
  svg.setAttribute("height", container.scrollHeight);
  const centre = el => {
    const r = el.getBoundingClientRect();
    return [r.left - box.left + r.width / 2 + container.scrollLeft, r.top - box.top + r.height / 2];
  };
  let max = 1e-9;
  for (const m of weights) for (const row of m) for (const v of row) max = Math.max(max, Math.abs(v));
  const parts = [];
  for (let l = 0; l < weights.length && l + 1 < nodeCols.length; l++) {
    const src = nodeCols[l].map(centre), dst = nodeCols[l + 1].map(centre), m = weights[l];
    for (let j = 0; j < dst.length && j < m.length; j++) {
      for (let i = 0; i < src.length && i < m[j].length; i++) {
        const v = m[j][i], c = v < 0 ? "#f59322" : "#0877bd", wdt = 0.3 + 3.5 * Math.abs(v) / max;
        parts.push(`<line x1="${src[i][0] + 18}" y1="${src[i][1]}" x2="${dst[j][0] - 18}" y2="${dst[j][1]}" ` +
                   `stroke="${c}" stroke-width="${wdt.toFixed(2)}" stroke-opacity="0.7"/>`);
      }
    }
  }
  svg.innerHTML = parts.join("");
}
