// evaltool's reading view, a Streamlit component without a build step.
//
// Streamlit's component protocol (postMessage between this iframe and the app):
//   we send   streamlit:componentReady {apiVersion: 1}, once;
//   we get    streamlit:render {args, theme} whenever the Python side draws us;
//   we send   streamlit:setFrameHeight {height} when our content's height changes,
//             streamlit:setComponentValue {value, dataType: "json"} for each event.
//
// args (built by evaltool/ui/reader.py):
//   turns: [{n, time, speaker, who, mod, start, runs: [{s, t, m: [mark index]}],
//            chips: [[mark index of one code]]}]
//          a run's `s` is its document offset in code points (Python's str indices)
//   marks: [{id, kind: "coding" | "pending", label, colour, fill, status, tip}]
//   chosen: coding id shown as chosen, with a toolbar under its turn (or null)
//   words: the toolbar's button names {accept, reject, close}
//
// Events (the component's value; `seq` makes every event a new value):
//   {kind: "select", start, end, turn, cut}  a selection inside one turn, as document
//                                            offsets (`cut`: it went over more turns and
//                                            was clamped to the turn it began in)
//   {kind: "empty"}                          a drag that selected no words
//   {kind: "coding", id}                     a code clicked (chip or highlighted text)
//   {kind: "decide", action, id}             keys A / X (or the toolbar) on the chosen coding
//   {kind: "undo"}                           key Z (undo the coder's last decision)
//   {kind: "clear"}                          Escape
//
// Transcript text, speakers and labels are untrusted: they only ever become text nodes
// (textContent) or attributes set through the DOM, never HTML.
"use strict";

(function () {
  const root = document.getElementById("root");
  let args = null;
  let seq = 0;
  let lastHeight = -1;
  let lastSelection = "";
  const turnText = new Map(); // turn number -> {start, chars: [code point]}

  function send(type, data) {
    window.parent.postMessage(Object.assign({isStreamlitMessage: true, type: type}, data), "*");
  }

  function emit(value) {
    seq += 1;
    value.seq = Date.now() + "-" + seq;
    send("streamlit:setComponentValue", {value: value, dataType: "json"});
  }

  function fit() {
    const height = Math.ceil(document.documentElement.getBoundingClientRect().height);
    if (height !== lastHeight) {
      lastHeight = height;
      send("streamlit:setFrameHeight", {height: height});
    }
  }

  function node(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  function applyTheme(theme) {
    if (!theme) return;
    const style = document.documentElement.style;
    if (theme.textColor) style.setProperty("--text", theme.textColor);
    if (theme.backgroundColor) style.setProperty("--bg", theme.backgroundColor);
    if (theme.base === "dark") style.setProperty("--muted", "#a3a8b8");
  }

  // Coding stripes under the text (several codes at once, one stripe each; suggestions
  // dashed) over a light fill of the first code's colour.
  function paint(span, marks) {
    const codes = marks.filter((m) => m.kind === "coding");
    const images = [], sizes = [], places = [];
    codes.slice(0, 4).forEach((m, k) => {
      images.push(m.status === "suggested"
        ? "repeating-linear-gradient(90deg, " + m.colour + " 0 6px, transparent 6px 9px)"
        : "linear-gradient(" + m.colour + ", " + m.colour + ")");
      sizes.push("100% 3px");
      places.push("0 calc(100% - " + (k * 4) + "px)");
    });
    const filled = codes.find((m) => m.status === "accepted") || codes[0];
    if (filled) {
      images.push("linear-gradient(" + filled.fill + ", " + filled.fill + ")");
      sizes.push("100% 100%");
      places.push("0 0");
      span.classList.add("coded");
      span.style.backgroundImage = images.join(", ");
      span.style.backgroundSize = sizes.join(", ");
      span.style.backgroundPosition = places.join(", ");
      span.style.paddingBottom = (Math.min(codes.length, 4) * 4 - 2) + "px";
      span.title = codes.map((m) => m.tip).join("\n");
      span.dataset.ids = codes.map((m) => m.id).join(",");
    }
    if (marks.some((m) => m.kind === "pending")) span.classList.add("pending");
    if (args.chosen !== null && codes.some((m) => m.id === args.chosen)) span.classList.add("chosen");
  }

  function render(data) {
    args = data.args;
    applyTheme(data.theme);
    const marks = args.marks || [];
    const rows = document.createDocumentFragment();
    turnText.clear();
    for (const turn of args.turns) {
      const row = node("div", turn.mod ? "turn mod" : "turn");
      row.dataset.turn = turn.n;
      const margin = node("div", "margin");
      margin.append(node("div", "time", turn.time || "\u00a0"), node("div", "who", turn.speaker));
      margin.title = turn.who;
      const text = node("div", "text");
      let whole = "";
      for (const run of turn.runs) {
        const span = node("span", "run", run.t);
        span.dataset.s = run.s;
        if (run.m.length) {
          span.dataset.m = run.m.join(",");
          paint(span, run.m.map((i) => marks[i]));
        }
        text.append(span);
        whole += run.t;
      }
      turnText.set(turn.n, {start: turn.start, chars: Array.from(whole)});
      const codes = node("div", "codes");
      for (const group of turn.chips) {
        // one name per code in the turn; its colour, and its status: accepted if any is
        const all = group.map((i) => marks[i]);
        const m = all.find((x) => x.status === "accepted") || all.find((x) => x.status === "suggested") || all[0];
        const label = all.length > 1 ? m.label + " \u00d7" + all.length : m.label;
        const chip = node("button", "chip " + m.status, label);
        chip.type = "button";
        chip.title = all.map((x) => x.tip).join("\n");
        chip.dataset.ids = all.map((x) => x.id).join(",");
        chip.style.borderLeftColor = m.colour;
        chip.style.background = m.fill;
        if (all.some((x) => x.id === args.chosen)) chip.classList.add("chosen");
        codes.append(chip);
      }
      row.append(margin, text, codes);
      const chosen = marks.find((x) => x.kind === "coding" && x.id === args.chosen);
      if (chosen && turn.chips.some((g) => g.some((i) => marks[i] === chosen))) {
        row.append(toolbar(chosen));
      }
      rows.append(row);
    }
    root.replaceChildren(rows);
    fit();
  }

  // The chosen coding under its turn: what it is and why, with its decisions (keys A / X).
  function toolbar(m) {
    const words = args.words || {};
    const bar = node("div", "toolbar");
    bar.style.borderLeftColor = m.colour;
    bar.append(node("div", "about", m.tip));
    const buttons = node("div", "buttons");
    for (const [action, key] of [["accept", "a"], ["reject", "x"]]) {
      const b = node("button", "decide " + action, words[action] + " (" + key.toUpperCase() + ")");
      b.type = "button";
      b.disabled = m.status === (action === "accept" ? "accepted" : "rejected");
      b.addEventListener("click", () => emit({kind: "decide", action: action, id: m.id}));
      buttons.append(b);
    }
    const close = node("button", "decide close", words.close + " (Esc)");
    close.type = "button";
    close.addEventListener("click", () => emit({kind: "clear"}));
    buttons.append(close);
    bar.append(buttons);
    return bar;
  }

  // Code points in the first `units` UTF-16 units of `text` (offsets are Python's).
  function points(text, units) {
    return Array.from(text.slice(0, units)).length;
  }

  // The selection as document offsets: each run the range touches contributes the part
  // of its text inside the range (runs carry their document offset); margins and code
  // names have no runs, so a drag that starts or ends there only takes the text between.
  function selection() {
    const sel = window.getSelection();
    if (!sel || sel.rangeCount === 0 || sel.isCollapsed) return null;
    const range = sel.getRangeAt(0);
    const parts = [];
    for (const span of root.querySelectorAll("span.run")) {
      if (!range.intersectsNode(span)) continue;
      const textNode = span.firstChild;
      if (!textNode) continue;
      const data = textNode.data;
      let a = 0, b = data.length;
      if (range.startContainer === textNode) a = range.startOffset;
      else if (range.startContainer === span) a = range.startOffset > 0 ? data.length : 0;
      if (range.endContainer === textNode) b = range.endOffset;
      else if (range.endContainer === span) b = range.endOffset > 0 ? data.length : 0;
      if (b <= a) continue;
      const s = Number(span.dataset.s);
      parts.push({turn: Number(span.closest(".turn").dataset.turn),
                  a: s + points(data, a), b: s + points(data, b)});
    }
    if (!parts.length) return {kind: "empty"};
    const turn = parts[0].turn;
    const mine = parts.filter((p) => p.turn === turn);
    let start = Math.min(...mine.map((p) => p.a));
    let end = Math.max(...mine.map((p) => p.b));
    const t = turnText.get(turn);
    while (start < end && /\s/u.test(t.chars[start - t.start])) start += 1;
    while (end > start && /\s/u.test(t.chars[end - 1 - t.start])) end -= 1;
    if (end <= start) return {kind: "empty"};
    return {kind: "select", start: start, end: end, turn: turn, cut: mine.length < parts.length};
  }

  function onSelect() {
    const found = selection();
    if (found === null) return;
    const id = JSON.stringify(found);
    if (id === lastSelection) return;
    lastSelection = id;
    emit(found);
  }

  document.addEventListener("mouseup", (e) => {
    if (e.target.closest && e.target.closest(".chip")) return;
    window.setTimeout(onSelect, 0);
  });
  document.addEventListener("keyup", (e) => {
    if (e.shiftKey || e.key === "Shift") onSelect();
  });

  document.addEventListener("click", (e) => {
    if (!args) return;
    const chip = e.target.closest && e.target.closest(".chip");
    if (chip) {  // the next of its codings (clicks cycle through them)
      const ids = chip.dataset.ids.split(",").map(Number);
      emit({kind: "coding", id: ids[(ids.indexOf(args.chosen) + 1) % ids.length]});
      return;
    }
    const run = e.target.closest && e.target.closest("span.run.coded");
    const sel = window.getSelection();
    if (!run || (sel && !sel.isCollapsed)) return;
    // a plain click on coded text: the next of its codings (clicks cycle through them)
    const ids = run.dataset.m.split(",").map((i) => args.marks[Number(i)])
      .filter((m) => m.kind === "coding").map((m) => m.id);
    if (!ids.length) return;
    const next = ids[(ids.indexOf(args.chosen) + 1) % ids.length];
    emit({kind: "coding", id: next});
  });

  document.addEventListener("keydown", (e) => {
    if (!args || e.ctrlKey || e.metaKey || e.altKey) return;
    const key = e.key.toLowerCase();
    if (key === "escape") {
      lastSelection = "";
      window.getSelection().removeAllRanges();
      emit({kind: "clear"});
    } else if (key === "z") {
      emit({kind: "undo"});
    } else if (args.chosen !== null && (key === "a" || key === "x")) {
      emit({kind: "decide", action: key === "a" ? "accept" : "reject", id: args.chosen});
    }
  });

  window.addEventListener("message", (event) => {
    if (event.data && event.data.type === "streamlit:render") render(event.data);
  });
  new ResizeObserver(fit).observe(document.documentElement);
  send("streamlit:componentReady", {apiVersion: 1});
})();
