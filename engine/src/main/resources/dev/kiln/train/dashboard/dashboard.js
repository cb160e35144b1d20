// Kiln's training page. Live: polls data.json (the page's server is the training JVM). Report: KILN_DATA holds
// every run, inlined. Each chart's element carries data-points (the points it plots), which the tests read.
"use strict";
const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"];
const INTEGER_STEPS = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10000, 20000, 50000, 100000, 200000, 500000, 1000000];
const views = [];   // per run: {section, status, charts: {id: {plot, el}}}

function fmtDuration(s) {
  if (s == null) return "–";
  if (s < 1) return Math.round(s * 1000) + " ms";
  if (s < 60) return Math.round(s) + " s";
  const m = Math.floor(s / 60);
  return m + " min " + String(Math.round(s % 60)).padStart(2, "0") + " s";
}

function fmtNumber(v) { return v == null ? "–" : Math.round(v).toLocaleString("en"); }

// The charts of one run: per batch, the loss (batch and running mean) and each metric; per epoch, each quantity
// with its validation twin.
function chartSpecs(run) {
  const specs = [];
  const b = run.batches;
  specs.push({ id: "batch:loss", title: "loss per batch", x: b.step, xLabel: "step",
    series: [{ label: "batch loss", data: b.batch_loss, width: 1, alpha: true }, { label: "running mean", data: b.loss, width: 2 }] });
  for (const k of Object.keys(b)) {
    if (k === "step" || k === "batch_loss" || k === "loss") continue;
    specs.push({ id: "batch:" + k, title: k + " per batch (running)", x: b.step, xLabel: "step", series: [{ label: k, data: b[k], width: 2 }] });
  }
  const e = run.epochs_logged;
  for (const k of Object.keys(e)) {
    if (k === "epoch" || k.startsWith("val_") || k === "lr") continue;
    const series = [{ label: k, data: e[k], width: 2, points: true }];
    if (e["val_" + k]) series.push({ label: "val_" + k, data: e["val_" + k], width: 2, dash: [6, 4], points: true });
    specs.push({ id: "epoch:" + k, title: k + " per epoch", x: e.epoch, xLabel: "epoch", series });
  }
  return specs;
}

function makeChart(parent, spec) {
  const el = document.createElement("div");
  el.className = "chart";
  el.dataset.chart = spec.id;
  const h = document.createElement("h3");
  h.textContent = spec.title;
  el.appendChild(h);
  parent.appendChild(el);
  const opts = {
    width: 460, height: 260,
    scales: { x: { time: false } },
    // steps and epochs are whole numbers: ticks only at integers
    axes: [{ label: spec.xLabel, incrs: INTEGER_STEPS, values: (u, ticks) => ticks.map(t => String(t)) }, {}],
    series: [{ label: spec.xLabel }].concat(spec.series.map((s, i) => ({
      label: s.label, stroke: COLORS[i % COLORS.length] + (s.alpha ? "88" : ""), width: s.width,
      // epoch curves: uPlot's own rule shows the points while there is room for them
      dash: s.dash, points: s.points ? {} : { show: false }, spanGaps: true,
    }))),
    legend: { live: true },
  };
  const plot = new uPlot(opts, [[]].concat(spec.series.map(() => [])), el);
  return { plot, el };
}

function updateChart(view, spec) {
  const data = [spec.x].concat(spec.series.map(s => s.data));
  view.plot.setData(data);
  view.el.dataset.points = String(view.plot.data[1].length);   // what uPlot holds, not what was sent
}

function runView(i) {
  if (views[i]) return views[i];
  const section = document.createElement("section");
  section.className = "run";
  section.dataset.run = String(i);
  const h = document.createElement("h2");
  section.appendChild(h);
  const status = document.createElement("div");
  status.className = "status";
  section.appendChild(status);
  const charts = document.createElement("div");
  charts.className = "charts";
  section.appendChild(charts);
  const details = document.createElement("details");
  details.open = true;
  const summary = document.createElement("summary");
  summary.textContent = "model summary";
  const pre = document.createElement("pre");
  details.append(summary, pre);
  section.appendChild(details);
  const runs = document.getElementById("runs");
  runs.insertBefore(section, runs.firstChild);   // the newest run on top
  return (views[i] = { section, h, status, chartsEl: charts, pre, charts: {} });
}

function render(data) {
  data.runs.forEach((run, i) => {
    const v = runView(i);
    v.h.textContent = "Run " + (i + 1) + ": " + run.name;
    v.pre.textContent = run.summary;
    v.section.dataset.steps = String(run.batches.step.length);
    v.section.dataset.done = String(run.done);
    const state = run.done ? "done" : "training";
    v.status.innerHTML = "";
    for (const [k, val] of [["state", state], ["epoch", run.epoch + " / " + run.epochs], ["batch", run.batch + " / " + run.batchesPerEpoch],
                             ["samples/s", fmtNumber(run.samplesPerSecond)], ["ETA", run.done ? "–" : fmtDuration(run.etaSeconds)],
                             ["examples", fmtNumber(run.examples)]]) {
      const s = document.createElement("span");
      s.append(k + ": ");
      const b = document.createElement("b");
      b.textContent = val;
      b.dataset.field = k;
      s.appendChild(b);
      v.status.appendChild(s);
    }
    for (const spec of chartSpecs(run)) {
      if (!v.charts[spec.id]) v.charts[spec.id] = makeChart(v.chartsEl, spec);
      updateChart(v.charts[spec.id], spec);
    }
  });
  document.body.dataset.runs = String(data.runs.length);
}

function setConnection(text) { document.getElementById("connection").textContent = text; }

function poll() {
  fetch("data.json", { cache: "no-store" })
    .then(r => r.json())
    .then(d => {
      render(d);
      const training = d.runs.some(r => !r.done);
      setConnection(d.runs.length === 0 ? "waiting for training to start…" : training ? "live: updates every half second" : "training finished (the page keeps watching for another run)");
      document.body.dataset.polls = String(Number(document.body.dataset.polls || 0) + 1);
      setTimeout(poll, training ? 500 : 1500);
    })
    .catch(() => { setConnection("the training program has ended: its report file keeps these curves"); setTimeout(poll, 3000); });
}

if (KILN_DATA) { setConnection("report: written after training, data inlined"); render(KILN_DATA); }
else poll();
