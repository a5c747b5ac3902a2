// SPDX-License-Identifier: Apache-2.0
// acm workspace: the agent's page on the /v1 API. Plain JavaScript, no build step, nothing
// fetched from elsewhere. Every value from the server is put in the page with textContent or
// SVG text nodes (never as HTML).
"use strict";

(function () {
  const TOKEN_KEY = "acm.token";
  const SVG_NS = "http://www.w3.org/2000/svg";
  const enc = encodeURIComponent;

  // The routes the page uses (docs/http.md).
  const ROUTES = {
    me: () => "/v1/me",
    mine: () => "/v1/queues/mine?limit=50",
    team: (roles) => "/v1/queue?" + new URLSearchParams([["limit", "50"], ...roles.map((r) => ["role", r])]).toString(),
    caseGet: (c) => `/v1/cases/${enc(c)}`,
    history: (c) => `/v1/cases/${enc(c)}/history`,
    applicable: (c) => `/v1/cases/${enc(c)}/fragments/applicable`,
    addFragment: (c) => `/v1/cases/${enc(c)}/fragments`,
    recommend: (c) => `/v1/cases/${enc(c)}/recommendations`,
    itemAction: (c, i, action) => `/v1/cases/${enc(c)}/items/${enc(i)}/${action}`,
    events: () => "/v1/events",
  };

  const state = {
    token: sessionStorage.getItem(TOKEN_KEY) || "",
    me: null,            // {id, roles}
    openCase: "",        // id of the case shown
    caseData: null,
    offers: [],
    stream: null,        // AbortController of the event stream
    lastEventId: "",
    refreshTimer: 0,
    assigning: "",       // "case|item" whose assign form is open
    caseRefreshTimer: 0,
    freshSeqs: new Set(),
  };

  const $ = (id) => document.getElementById(id);

  // ---------------------------------------------------------------- helpers: DOM and text

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "class") node.className = v;
      else if (k === "text") node.textContent = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else if (k.startsWith("data-")) node.setAttribute(k, String(v));
      else node.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children) {
      if (c === null || c === undefined || c === false) continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }

  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); return node; }

  const TIMING_TEXT = { on_track: "On track", at_risk: "At risk", overdue: "Overdue" };
  const STATE_TEXT = {
    available: "not started", enabled: "ready", active: "in progress", suspended: "on hold",
    completed: "done", terminated: "stopped", failed: "failed", disabled: "disabled",
  };
  const KIND_TEXT = {
    human_task: "task", automated_task: "automated", milestone: "milestone", stage: "stage",
    user_listener: "listener", timer: "timer", process_task: "process", case_task: "case task",
  };

  function timingBadge(timing) {
    if (!timing) return el("span", { class: "muted", text: "no deadline" });
    return el("span", { class: "badge " + timing, "data-timing": timing, text: TIMING_TEXT[timing] || words(timing) });
  }

  function words(s) { return String(s || "").replace(/_/g, " "); }

  /// "2d 3h", "45m", "30s" for a number of milliseconds (two units at most, as the CLI).
  function humanMs(ms) {
    ms = Math.abs(ms);
    const units = [["d", 86400000], ["h", 3600000], ["m", 60000], ["s", 1000]];
    const parts = [];
    for (const [u, size] of units) {
      if (ms >= size || (parts.length === 0 && u === "s")) {
        const n = Math.floor(ms / size);
        if (n > 0 || parts.length) parts.push(n + u);
        ms -= n * size;
      }
      if (parts.length === 2) break;
    }
    return parts.length ? parts.join(" ") : "0s";
  }

  /// ISO-8601 duration (PT2H30M, P2DT4H, PT59M59.964S) to milliseconds; null when not one.
  function isoDurationMs(iso) {
    const m = /^P(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(iso || "");
    if (!m) return null;
    const [d, h, mi, s] = m.slice(1).map((x) => (x ? parseFloat(x) : 0));
    return ((d * 24 + h) * 60 + mi) * 60000 + s * 1000;
  }

  function humanDuration(iso) {
    const ms = isoDurationMs(iso);
    return ms === null ? String(iso || "") : humanMs(ms);
  }

  const dateFmt = new Intl.DateTimeFormat(undefined, {
    weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit", hourCycle: "h23",
  });

  /// "in 3h 20m", "2h ago", "now".
  function relative(iso) {
    const diff = Date.parse(iso) - Date.now();
    return Math.abs(diff) < 1000 ? "now" : diff > 0 ? "in " + humanMs(diff) : humanMs(diff) + " ago";
  }

  /// A time in one line of text: "Tue, Dec 8, 11:06 (in 1d 23h)".
  function when(iso) {
    if (!iso) return "";
    const t = Date.parse(iso);
    if (Number.isNaN(t)) return String(iso);
    return `${dateFmt.format(new Date(t))} (${relative(iso)})`;
  }

  /// A time in a table: the date, and under it how far it is from now (kept current).
  function timeCell(iso, fallback) {
    if (!iso) return el("span", { class: "muted", text: fallback || "—" });
    const t = Date.parse(iso);
    if (Number.isNaN(t)) return el("span", { text: String(iso) });
    return el("time", { datetime: iso, "data-time": iso },
      el("span", { class: "abs", text: dateFmt.format(new Date(t)) }),
      el("span", { class: "rel", text: relative(iso) }));
  }

  /// A value of the case file or of a payload as text people read (no JSON syntax).
  function plain(v) {
    if (v === null || v === undefined) return "(empty)";
    if (typeof v === "boolean") return v ? "yes" : "no";
    if (typeof v === "number" || typeof v === "string") return String(v);
    if (Array.isArray(v)) return v.map(plain).join(", ");
    return Object.entries(v).map(([k, x]) => `${words(k)}: ${plain(x)}`).join("; ");
  }

  /// Flattens an object into [dotted path, leaf value] rows.
  function flatten(obj, prefix, out) {
    out = out || [];
    if (obj && typeof obj === "object" && !Array.isArray(obj) && Object.keys(obj).length) {
      for (const [k, v] of Object.entries(obj)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
    } else if (prefix) {
      out.push([prefix, obj]);
    }
    return out;
  }

  // ---------------------------------------------------------------- the API

  class ApiError extends Error {
    constructor(status, message) { super(message); this.status = status; }
  }

  async function api(method, path, body) {
    const headers = { Authorization: "Bearer " + state.token, Accept: "application/json" };
    const init = { method, headers };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch(path, init);
    } catch (e) {
      throw new ApiError(0, "The server cannot be reached (" + e.message + ").");
    }
    const text = await res.text();
    let data = null;
    if (text) {
      try { data = JSON.parse(text); } catch (e) { data = null; }
    }
    if (!res.ok) {
      let message = `The server answered ${res.status} ${res.statusText}.`;
      if (data && (data.detail || data.title)) message = data.detail || data.title;
      throw new ApiError(res.status, message);
    }
    return data;
  }

  function showError(err) {
    const msg = err instanceof Error ? err.message : String(err);
    $("error-text").textContent = msg;
    $("error").hidden = false;
    if (err instanceof ApiError && err.status === 401) signOut("Your token was not accepted: " + msg);
  }

  function clearError() { $("error").hidden = true; $("error-text").textContent = ""; }

  /// Runs an action of a button: disables it while the request runs, shows errors.
  async function act(button, fn) {
    if (button) button.disabled = true;
    clearError();
    try {
      await fn();
    } catch (e) {
      showError(e);
    } finally {
      if (button) button.disabled = false;
    }
    await Promise.all([refreshQueues(), state.openCase ? refreshCase() : null]);
  }

  // ---------------------------------------------------------------- sign in and out

  async function signIn(token) {
    state.token = token.trim();
    if (!state.token) return;
    try {
      state.me = await api("GET", ROUTES.me());
    } catch (e) {
      state.token = "";
      sessionStorage.removeItem(TOKEN_KEY);
      showSignIn();
      showError(e.status === 401 ? new Error("This token is not valid: " + e.message) : e);
      return;
    }
    sessionStorage.setItem(TOKEN_KEY, state.token);
    clearError();
    $("sign-in").hidden = true;
    $("workspace").hidden = false;
    $("who").hidden = false;
    $("me-name").textContent = state.me.id;
    $("me-roles").textContent = state.me.roles && state.me.roles.length ? "(" + state.me.roles.join(", ") + ")" : "";
    await refreshQueues();
    const wanted = decodeURIComponent(location.hash.replace(/^#case=/, ""));
    if (location.hash.startsWith("#case=") && wanted) await openCase(wanted);
    startStream();
  }

  function signOut(message) {
    if (state.stream) state.stream.abort();
    state.stream = null;
    state.token = "";
    state.me = null;
    state.openCase = "";
    sessionStorage.removeItem(TOKEN_KEY);
    setLive(false);
    showSignIn();
    if (message) { $("error-text").textContent = message; $("error").hidden = false; }
  }

  function showSignIn() {
    $("workspace").hidden = true;
    $("who").hidden = true;
    $("sign-in").hidden = false;
    $("token").value = "";
    $("token").focus();
  }

  // ---------------------------------------------------------------- queues

  function teamRoles() {
    return (state.me && state.me.roles ? state.me.roles : []).filter((r) => r !== "admin");
  }

  async function refreshQueues() {
    if (!state.me) return;
    try {
      const mine = await api("GET", ROUTES.mine());
      preserve($("my-queue"), () => renderQueue($("my-queue"), $("my-count"), mine, "Nothing is assigned to you."));
      const roles = teamRoles();
      $("team-roles").textContent = roles.length ? "unassigned work for " + roles.join(", ") : "";
      if (roles.length) {
        const team = await api("GET", ROUTES.team(roles));
        preserve($("team-queue"), () => renderQueue($("team-queue"), $("team-count"), team, "No unassigned work for your team."));
      } else {
        renderQueue($("team-queue"), $("team-count"), { items: [], total: 0 }, "You have no team role.");
      }
    } catch (e) {
      showError(e);
    }
  }

  function renderQueue(table, counter, page, emptyText) {
    const items = (page && page.items) || [];
    counter.textContent = String(page && page.total !== undefined ? page.total : items.length);
    clear(table);
    table.append(el("thead", {}, el("tr", {},
      el("th", { text: "Prio", title: "Case priority" }), el("th", { text: "Work" }),
      el("th", { text: "Due" }), el("th", { text: "Goal" }))));
    const body = el("tbody");
    if (!items.length) body.append(el("tr", { class: "empty-row" }, el("td", { colspan: "4", text: emptyText })));
    for (const w of items) {
      const open = el("button", {
        type: "button", class: "open-case", text: w.name, "data-key": `open:${w.case}|${w.item}`,
        "aria-label": `Open case ${w.case_title || w.case}: ${w.name}`,
        onclick: () => openCase(w.case),
      });
      const row = el("tr", {
        "data-case": w.case, "data-item": w.item, "data-priority": w.priority,
        class: w.case === state.openCase ? "current" : "",
      },
        el("td", {}, el("span", { class: "prio" + (w.priority >= 5 ? " high" : ""), text: String(w.priority) })),
        el("td", {}, open, el("span", { class: "sub", text:
          `${w.case_title || w.case}${w.customer ? " · " + w.customer : ""} · ${STATE_TEXT[w.state] || w.state}` +
          (w.assignee && w.assignee !== (state.me && state.me.id) ? " · " + w.assignee : "") })),
        el("td", {}, w.due ? timeCell(w.due) : w.goal_deadline ? timeCell(w.goal_deadline) : el("span", { class: "muted", text: "—" })),
        el("td", {}, w.goal_timing ? timingBadge(w.goal_timing) : el("span", { class: "muted", text: "—" })));
      body.append(row);
    }
    table.append(body);
  }

  // ---------------------------------------------------------------- the case

  async function openCase(id) {
    state.openCase = id;
    state.freshSeqs.clear();
    history.replaceState(null, "", "#case=" + enc(id));
    for (const tr of document.querySelectorAll(".queue tr[data-case]"))
      tr.classList.toggle("current", tr.dataset.case === id);
    await refreshCase();
    const title = $("case-title");
    if (!$("case-view").hidden) { title.setAttribute("tabindex", "-1"); title.focus(); }
  }

  async function refreshCase() {
    const id = state.openCase;
    if (!id) return;
    let c, events;
    try {
      [c, events] = await Promise.all([api("GET", ROUTES.caseGet(id)), api("GET", ROUTES.history(id))]);
    } catch (e) {
      showError(e);
      return;
    }
    if (id !== state.openCase) return;
    state.caseData = c;
    // What the plan can take and what was learned are optional parts: their errors are shown
    // in place and do not hide the case.
    let offers = [], offersError = "", rec = null, recError = "";
    const active = c.status === "active";
    await Promise.all([
      active ? api("GET", ROUTES.applicable(id)).then((o) => { offers = Array.isArray(o) ? o : (o && o.fragments) || []; })
        .catch((e) => { offersError = e.message; }) : null,
      active ? api("GET", ROUTES.recommend(id)).then((r) => { rec = r; }).catch((e) => { recError = e.status === 404 ? "" : e.message; }) : null,
    ]);
    if (id !== state.openCase) return;
    state.offers = offers;
    $("case-empty").hidden = true;
    $("case-view").hidden = false;
    $("case-view").dataset.case = c.id;
    $("case-view").dataset.version = String(c.version);
    preserve($("case-view"), () => {
      renderHead(c);
      renderGoals(c);
      renderPlan(c, offers);
      renderTasks(c);
      renderFragments(c, offers, offersError, rec, recError);
      renderFile(c);
      renderHistory(events || []);
    });
  }

  function renderHead(c) {
    $("case-title").textContent = c.title || c.id;
    const facts = clear($("case-facts"));
    const add = (k, v) => facts.append(el("div", {}, el("dt", { text: k }), el("dd", {}, v)));
    add("Case", c.id);
    add("Status", el("span", { class: "badge status", "data-status": c.status, text: words(c.status) }));
    add("Priority", String(c.priority));
    add("Customer", (c.subject && c.subject.customer) || "—");
    add("Owner", c.owner || "—");
    const attrs = c.subject && c.subject.attributes ? Object.entries(c.subject.attributes) : [];
    for (const [k, v] of attrs) add(words(k), plain(v));
    if (c.next_deadline) add("Next deadline", timeCell(c.next_deadline));
  }

  function renderGoals(c) {
    const t = clear($("goals"));
    t.append(el("thead", {}, el("tr", {}, el("th", { text: "Goal" }), el("th", { text: "Deadline" }),
      el("th", { text: "Timing" }), el("th", { text: "Remaining work" }), el("th", { text: "Status" }))));
    const body = el("tbody");
    const goals = c.goals || [];
    if (!goals.length) body.append(el("tr", { class: "empty-row" }, el("td", { colspan: "5", text: "This case has no goals." })));
    for (const g of goals) {
      const open = g.status === "open";
      body.append(el("tr", { "data-goal": g.id, "data-timing": g.timing, "data-status": g.status },
        el("td", {}, el("strong", { text: g.name || g.id }), g.parent ? el("span", { class: "muted", text: ` (part of ${g.parent})` }) : null),
        el("td", {}, timeCell(g.deadline, "no deadline")),
        el("td", {}, open ? timingBadge(g.deadline ? g.timing : null) : el("span", { class: "muted", text: "—" })),
        el("td", { text: g.remaining_work ? humanDuration(g.remaining_work) : "—" }),
        el("td", {}, el("span", { class: "badge " + (g.status === "open" ? "status" : g.status), text: words(g.status) }))));
    }
    t.append(body);
  }

  function itemLabel(c, id) {
    const it = (c.items || []).find((x) => x.id === id);
    return it ? it.name || it.id : id;
  }

  function renderTasks(c) {
    const t = clear($("tasks"));
    const me = state.me.id;
    const tasks = (c.items || []).filter((it) => ["human_task", "automated_task", "process_task", "case_task", "user_listener"].includes(it.kind));
    t.append(el("thead", {}, el("tr", {}, el("th", { text: "Task" }), el("th", { text: "State" }),
      el("th", { text: "Who" }), el("th", { text: "Due" }), el("th", { text: "" }))));
    const body = el("tbody");
    if (!tasks.length) body.append(el("tr", { class: "empty-row" }, el("td", { colspan: "5", text: "No tasks in the plan yet." })));
    for (const it of tasks) {
      const actions = el("td", { class: "actions" });
      const open = ["enabled", "active", "suspended"].includes(it.state) && c.status === "active";
      if (open && it.kind === "human_task") {
        if (it.assignee !== me)
          actions.append(el("button", { type: "button", "data-action": "take", "data-key": `take:${it.id}`, text: "Take",
            title: "Assign this task to me", onclick: (e) => act(e.currentTarget, () => api("POST", ROUTES.itemAction(c.id, it.id, "assign"), { assignee: me })) }));
        actions.append(assignControl(c, it));
        if (it.state === "enabled")
          actions.append(el("button", { type: "button", "data-action": "start", "data-key": `start:${it.id}`, text: "Start",
            onclick: (e) => act(e.currentTarget, () => api("POST", ROUTES.itemAction(c.id, it.id, "start"), {})) }));
        if (it.state === "active")
          actions.append(el("button", { type: "button", class: "primary", "data-action": "complete", "data-key": `complete:${it.id}`, text: "Complete",
            onclick: (e) => act(e.currentTarget, () => api("POST", ROUTES.itemAction(c.id, it.id, "complete"), {})) }));
      }
      // A user event listener: a person says that it happened (CMMN "occur").
      if (it.kind === "user_listener" && ["available", "enabled", "active"].includes(it.state) && c.status === "active")
        actions.append(el("button", { type: "button", class: "primary", "data-action": "occur", "data-key": `occur:${it.id}`, text: "It happened",
          title: "Record that this happened", onclick: (e) => act(e.currentTarget, () => api("POST", ROUTES.itemAction(c.id, it.id, "occur"), {})) }));
      const stage = it.parent ? itemLabel(c, it.parent) : "";
      body.append(el("tr", { "data-item": it.id, "data-state": it.state },
        el("td", {}, el("strong", { text: it.name || it.id }), stage ? el("span", { class: "sub", text: stage }) : null),
        el("td", {}, el("span", { class: "badge status st-" + it.state, text: STATE_TEXT[it.state] || words(it.state) })),
        el("td", { text: it.assignee || (it.role ? "any " + words(it.role) : it.kind === "user_listener" ? "event" : "—") }),
        el("td", {}, timeCell(it.due, "—")),
        actions));
    }
    t.append(body);
  }

  /// "Assign…": a small inline form asking for the actor id. Which task's form is open is kept in
  /// `state.assigning`, so a live redraw keeps it open (and `preserve` keeps what was typed).
  function assignControl(c, it) {
    const wrap = el("span", { class: "assign" });
    if (state.assigning !== `${c.id}|${it.id}`) {
      wrap.append(el("button", { type: "button", "data-action": "assign", "data-key": `assign:${it.id}`, text: "Assign…",
        title: "Assign to someone",
        onclick: () => { state.assigning = `${c.id}|${it.id}`; renderTasks(c); focusKey(`assign-to:${it.id}`); } }));
      return wrap;
    }
    const input = el("input", { type: "text", size: "8", "aria-label": `Assign ${it.name} to`, placeholder: "actor id",
      value: it.assignee || "", "data-key": `assign-to:${it.id}` });
    const close = () => { state.assigning = ""; renderTasks(c); focusKey(`assign:${it.id}`); };
    const ok = el("button", { type: "button", text: "OK", "data-action": "assign-ok", "data-key": `assign-ok:${it.id}` });
    const cancel = el("button", { type: "button", text: "Cancel", onclick: close });
    const go = () => {
      const who = input.value.trim();
      state.assigning = "";
      act(ok, () => api("POST", ROUTES.itemAction(c.id, it.id, "assign"), { assignee: who }));
    };
    ok.addEventListener("click", go);
    input.addEventListener("keydown", (e) => { if (e.key === "Enter") go(); if (e.key === "Escape") close(); });
    wrap.append(input, ok, cancel);
    return wrap;
  }

  function focusKey(key) {
    const target = document.querySelector(`[data-key="${CSS.escape(key)}"]`);
    if (target) target.focus();
  }

  /// Redraws a part of the page without losing what the person was doing there: the values typed
  /// in its inputs and the keyboard focus (matched by `data-key`) survive the redraw.
  function preserve(root, draw) {
    const typed = new Map();
    for (const input of root.querySelectorAll("input[data-key]")) typed.set(input.dataset.key, input.value);
    const active = document.activeElement;
    const focused = active && root.contains(active) && active.dataset ? active.dataset.key : "";
    draw();
    for (const input of root.querySelectorAll("input[data-key]"))
      if (typed.has(input.dataset.key)) input.value = typed.get(input.dataset.key);
    if (focused) focusKey(focused);
  }

  // ---------------------------------------------------------------- fragments and the learned recommendation

  function renderFragments(c, offers, offersError, rec, recError) {
    const list = clear($("fragments"));
    const box = clear($("recommendation"));
    const byId = new Map(offers.map((o) => [o.fragment, o]));
    // The recommendation: the most probable next step learned from past cases, with its reasons.
    const steps = rec && (rec.next_steps || rec.steps || []);
    if (steps && steps.length) {
      const top = steps[0];
      const activity = top.activity || "";
      const fragment = activity.startsWith("+") ? activity.slice(1) : "";
      const offer = fragment ? byId.get(fragment) : null;
      const label = activity === "" ? "Close the case" : fragment ? `Add “${offer ? offer.name : fragment}”` : itemNameForDef(c, activity);
      const head = el("div", { class: "rec-head" },
        el("span", {}, el("strong", { text: "Recommended next: " }), label,
          el("span", { class: "muted", text: ` (${Math.round(100 * (top.probability || 0))} %, seen ${top.support || 0} times in similar cases)` })));
      if (offer) head.append(addButton(c, offer, "Add recommended", null, true));
      box.append(head);
      const reasons = (top.evidence || []).map((e) => e.text || `${e.feature}: ${e.value}`).filter(Boolean).slice(0, 3);
      if (reasons.length) box.append(el("div", { class: "small muted", text: "Because:" }), el("ul", { class: "reasons" }, ...reasons.map((r) => el("li", { text: r }))));
      if (rec.remaining || (rec.completion && rec.completion.remaining)) {
        const remaining = rec.remaining || rec.completion.remaining;
        box.append(el("div", { class: "small", text: "Expected to be done in about " + humanDuration(remaining) + "." }));
      }
      box.hidden = false;
      box.dataset.fragment = fragment;
    } else {
      box.hidden = !recError;
      if (recError) box.append(el("span", { class: "muted", text: "No recommendation: " + recError }));
    }
    if (offersError) { list.append(el("li", { class: "muted", text: "Cannot list what applies: " + offersError })); return; }
    if (!offers.length) { list.append(el("li", { class: "muted", text: c.status === "active" ? "Nothing else applies to this case now." : "The case is not active." })); return; }
    for (const o of offers) {
      const li = el("li", { "data-fragment": o.fragment });
      const params = el("div", { class: "params" });
      const inputs = {};
      for (const p of o.parameters || []) {
        const input = el("input", {
          type: p.type === "number" ? "number" : "text", name: p.name, required: p.required,
          "data-key": `param:${o.fragment}:${p.name}`, "aria-label": `${o.name || o.fragment}: ${words(p.name)}`,
          value: p.default === null || p.default === undefined ? "" : String(p.default),
        });
        inputs[p.name] = { input, type: p.type };
        params.append(el("label", {}, `${words(p.name)}${p.required ? " *" : ""}`, input));
      }
      li.append(el("div", { class: "frag-head" },
        el("span", {}, el("strong", { text: o.name || o.fragment }), el("span", { class: "muted small", text: o.description ? " — " + o.description : "" })),
        addButton(c, o, "Add", inputs, false)));
      if ((o.parameters || []).length) li.append(params);
      list.append(li);
    }
  }

  function itemNameForDef(c, def) {
    const it = (c.items || []).find((x) => x.def === def);
    return it ? it.name : def;
  }

  function addButton(c, offer, text, inputs, recommended) {
    return el("button", {
      type: "button", class: recommended ? "primary" : "", "data-action": "add-fragment", "data-fragment": offer.fragment,
      "data-key": `${recommended ? "add-recommended" : "add"}:${offer.fragment}`,
      text, "aria-label": `${text}: ${offer.name || offer.fragment}`,
      onclick: (e) => {
        const params = {};
        for (const [name, { input, type }] of Object.entries(inputs || {})) {
          const v = input.value.trim();
          if (v === "") continue;
          params[name] = type === "number" ? Number(v) : type === "boolean" ? v === "true" : v;
        }
        if (recommended) {
          // From the recommendation: take the values typed in the fragment's row below, if any.
          const row = document.querySelector(`#fragments li[data-fragment="${CSS.escape(offer.fragment)}"]`);
          for (const input of row ? row.querySelectorAll("input") : []) {
            if (input.value.trim() !== "") params[input.name] = input.type === "number" ? Number(input.value) : input.value.trim();
          }
        }
        const missing = (offer.parameters || []).filter((p) => p.required && params[p.name] === undefined).map((p) => words(p.name));
        if (missing.length) {
          showError(new Error(`“${offer.name || offer.fragment}” needs ${missing.join(", ")}: fill ${missing.length > 1 ? "them" : "it"} in below.`));
          return;
        }
        act(e.currentTarget, () => api("POST", ROUTES.addFragment(c.id), { fragment: offer.fragment, params }));
      },
    });
  }

  // ---------------------------------------------------------------- the case file and the history

  function renderFile(c) {
    const t = clear($("case-file"));
    const rows = flatten(c.file || {}, "");
    const body = el("tbody");
    if (!rows.length) body.append(el("tr", { class: "empty-row" }, el("td", { colspan: "2", text: "The case file is empty." })));
    for (const [path, v] of rows) body.append(el("tr", { "data-path": path }, el("td", { text: path }), el("td", { text: plain(v) })));
    for (const a of c.assets || []) {
      body.append(el("tr", { "data-asset": a.id }, el("td", { text: `${a.kind}${a.title ? ": " + a.title : ""}` }),
        el("td", {}, a.uri ? el("a", { href: a.uri, rel: "noopener noreferrer", target: "_blank", text: a.uri }) : a.text || "")));
    }
    t.append(body);
  }

  function describe(c, e) {
    const p = e.payload || {};
    const item = (id) => `“${itemLabel(c, id)}”`;
    const goalName = (id) => { const g = (c.goals || []).find((x) => x.id === id); return `“${g ? g.name || id : id}”`; };
    switch (e.kind) {
      case "case_created": return `Case opened: “${p.title}”${p.subject && p.subject.customer ? " for " + p.subject.customer : ""} (owner ${p.owner || "none"}, priority ${p.priority || 0})`;
      case "goal_added": return `Goal ${goalName(p.goal && p.goal.id)} added${p.deadline ? ", due " + when(p.deadline) : ""}`;
      case "goal_changed": return `Goal ${goalName(p.goal)} changed`;
      case "goal_status": return `Goal ${goalName(p.goal)} ${words(p.to)}${p.reason ? " (" + p.reason + ")" : ""}`;
      case "goal_timing": return `Goal ${goalName(p.goal)} is now ${(TIMING_TEXT[p.to] || words(p.to)).toLowerCase()}${p.remaining_work ? " (remaining work " + humanDuration(p.remaining_work) + ")" : ""}`;
      case "fragment_added": return `${item(p.item)} added to the plan`;
      case "task_added": return `Task “${(p.task && p.task.name) || p.item}” added`;
      case "item_transition": return `${item(p.item)}: ${STATE_TEXT[p.from] || p.from} → ${STATE_TEXT[p.to] || p.to}${p.error ? " (" + p.error + ")" : ""}`;
      case "item_assigned": return `${item(p.item)} assigned to ${p.to || "nobody"}`;
      case "item_overdue": return `${item(p.item)} is overdue`;
      case "item_created": return `${item(p.item)} repeats`;
      case "item_removed": return `${item(p.item)} removed`;
      case "dependency_added": return `${item(p.item)} now waits for ${(p.after || []).map ? [].concat(p.after).map(item).join(", ") : p.after}`;
      case "participant_added": return `${p.actor} joins as ${[].concat(p.roles || []).join(", ")}`;
      case "participant_removed": return `${p.actor} leaves the case`;
      case "owner_changed": return `Owner ${p.from || "none"} → ${p.to || "none"}`;
      case "priority_changed": return `Priority ${p.from} → ${p.to}`;
      case "subject_changed": return `${words(p.key)} set to ${plain(p.value)}`;
      case "case_status": return `Case ${words(p.from)} → ${words(p.to)}${p.reason ? " (" + p.reason + ")" : ""}`;
      case "file_set": return `Case file ${p.path} = ${plain(p.value)}`;
      case "file_removed": return `Case file ${p.path} removed`;
      case "asset_attached": return `${(p.asset && p.asset.kind) || "asset"} attached${p.asset && p.asset.title ? ": " + p.asset.title : ""}`;
      case "signal": return `Event “${p.name}” received`;
      case "error": return `Error: ${p.message}`;
      default: return words(e.kind);
    }
  }

  function renderHistory(events) {
    const c = state.caseData;
    const ol = clear($("history"));
    const shown = events.slice().reverse().slice(0, 200);
    for (const e of shown) {
      ol.append(el("li", { "data-seq": e.seq, "data-kind": e.kind, class: state.freshSeqs.has(e.seq) ? "fresh" : "" },
        el("span", { class: "when", text: e.time ? dateFmt.format(new Date(Date.parse(e.time))) : "" }),
        el("span", { class: "actor", text: e.actor || "engine" }),
        el("span", { class: "what", text: describe(c, e) })));
    }
  }

  // ---------------------------------------------------------------- the plan as a picture

  const FILL = {
    available: "#eceff3", enabled: "#fff4c2", active: "#d6e6ff", suspended: "#ffe2b8", completed: "#d9f2df",
    terminated: "#e3e3e3", failed: "#fde0dc", disabled: "#f3f3f3",
  };
  const GOAL_FILL = { on_track: "#d9f2df", at_risk: "#ffe2b8", overdue: "#fde0dc", achieved: "#b9e6c4", cancelled: "#e3e3e3" };

  function svg(tag, attrs, text) {
    const n = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) n.setAttribute(k, String(v));
    if (text !== undefined) n.textContent = text;
    return n;
  }

  /// Cuts a label to what fits in `max` characters per line, two lines at most.
  function lines(text, max) {
    const out = [];
    let cur = "";
    for (const w of String(text).split(/\s+/)) {
      if (!cur) cur = w;
      else if ((cur + " " + w).length <= max) cur += " " + w;
      else { out.push(cur); cur = w; }
    }
    if (cur) out.push(cur);
    if (out.length > 2) { out.length = 2; out[1] = out[1].slice(0, max - 1) + "…"; }
    return out.map((l) => (l.length > max ? l.slice(0, max - 1) + "…" : l));
  }

  /// Draws the case plan: one frame per stage (fragment instance) with its items in columns
  /// by dependency depth (`after`), arrows for the dependencies, ad-hoc work in the case plan
  /// frame, goals as hexagons coloured by timing, and the fragments that apply now as dashed
  /// boxes (the planning table).
  function renderPlan(c, offers) {
    const box = clear($("plan"));
    const items = c.items || [];
    const byId = new Map(items.map((it) => [it.id, it]));
    const W = 150, H = 50, GX = 34, GY = 14, PAD = 12, HEAD = 22;
    // Groups: each stage's children; top-level non-stage items in the case's own group.
    const groups = [];
    const stages = items.filter((it) => it.kind === "stage");
    const topLevel = items.filter((it) => !it.parent && it.kind !== "stage");
    if (topLevel.length) groups.push({ id: "", title: "Ad-hoc work", state: c.status === "active" ? "active" : "completed", members: topLevel });
    for (const s of stages) groups.push({ id: s.id, title: s.name || s.fragment || s.id, state: s.state, members: items.filter((it) => it.parent === s.id) });
    // Column of each item: 1 + the deepest item it waits for in its group.
    const depth = new Map();
    const depthOf = (it, seen) => {
      if (depth.has(it.id)) return depth.get(it.id);
      if (seen.has(it.id)) return 0;
      seen.add(it.id);
      let d = 0;
      for (const a of it.after || []) {
        const other = byId.get(a);
        if (other && other.parent === it.parent) d = Math.max(d, depthOf(other, seen) + 1);
      }
      depth.set(it.id, d);
      return d;
    };
    const pos = new Map();
    let y = PAD, width = 0;
    const frames = [];
    for (const g of groups) {
      const cols = [];
      for (const it of g.members) { const d = depthOf(it, new Set()); (cols[d] = cols[d] || []).push(it); }
      const rows = Math.max(1, ...cols.map((col) => (col ? col.length : 0)));
      const ncols = Math.max(1, cols.length);
      const title = g.title + (g.id ? ` — ${STATE_TEXT[g.state] || g.state}` : "");
      const fw = Math.max(PAD * 2 + ncols * W + (ncols - 1) * GX, 20 + 7.2 * title.length);
      const fh = HEAD + PAD + rows * H + (rows - 1) * GY + PAD;
      frames.push({ g, x: PAD, y, w: fw, h: fh });
      cols.forEach((col, ci) => (col || []).forEach((it, ri) => {
        pos.set(it.id, { x: PAD * 2 + ci * (W + GX), y: y + HEAD + PAD + ri * (H + GY) });
      }));
      width = Math.max(width, fw + PAD);
      y += fh + GY;
    }
    // Goals on the right.
    const goals = c.goals || [];
    const gx = width + 24, GW = 170, GH = 46;
    goals.forEach((g, i) => pos.set("goal:" + g.id, { x: gx, y: PAD + HEAD + i * (GH + GY) }));
    // The planning table: fragments that apply now.
    const ox = gx + (goals.length ? GW + 30 : 0);
    (offers || []).forEach((o, i) => pos.set("offer:" + o.fragment, { x: ox, y: PAD + HEAD + i * (H + GY) }));
    const totalW = ox + ((offers || []).length ? W + PAD : 0) + PAD;
    const totalH = Math.max(y, PAD + HEAD + goals.length * (GH + GY) + PAD, PAD + HEAD + (offers || []).length * (H + GY) + PAD);
    const root = svg("svg", { viewBox: `0 0 ${totalW} ${totalH}`, width: totalW, height: totalH, role: "img",
      "aria-label": `Plan of ${c.title}: ${items.length} items, ${goals.length} goals` });
    const defs = svg("defs");
    const marker = svg("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 10, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" });
    marker.append(svg("path", { d: "M0,0 L10,5 L0,10 z", fill: "#5b6675" }));
    defs.append(marker);
    root.append(defs);
    for (const f of frames) {
      root.append(svg("rect", { x: f.x, y: f.y, width: f.w, height: f.h, rx: 10, fill: "#fafbfd", stroke: f.g.id ? "#8893a2" : "#b7c0cc", "stroke-dasharray": f.g.id ? "" : "5 4" }));
      const t = svg("text", { x: f.x + 10, y: f.y + 16, "font-size": 12, "font-weight": 700, fill: "#1c2430" },
        f.g.title + (f.g.id ? ` — ${STATE_TEXT[f.g.state] || f.g.state}` : ""));
      root.append(t);
      if (!f.g.members.length) root.append(svg("text", { x: f.x + 10, y: f.y + HEAD + 20, "font-size": 11, fill: "#5b6675" }, "(its items appear when it starts)"));
    }
    // Dependencies first, under the boxes.
    for (const it of items) {
      for (const a of it.after || []) {
        const from = pos.get(a), to = pos.get(it.id);
        if (!from || !to) continue;
        const x1 = from.x + W, y1 = from.y + H / 2, x2 = to.x, y2 = to.y + H / 2;
        const mx = (x1 + x2) / 2;
        root.append(svg("path", { d: `M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}`, fill: "none", stroke: "#5b6675", "stroke-width": 1.3, "marker-end": "url(#arrow)" }));
      }
    }
    for (const it of items) {
      const p = pos.get(it.id);
      if (!p) continue;
      const g = svg("g", { "data-item": it.id, "data-state": it.state });
      const title = svg("title", {}, `${it.name} — ${KIND_TEXT[it.kind] || it.kind}, ${STATE_TEXT[it.state] || it.state}`);
      g.append(title);
      const milestone = it.kind === "milestone", listener = it.kind === "user_listener" || it.kind === "timer";
      if (listener) g.append(svg("ellipse", { cx: p.x + W / 2, cy: p.y + H / 2, rx: W / 2, ry: H / 2, fill: FILL[it.state] || "#fff", stroke: "#5b6675" }));
      else g.append(svg("rect", { x: p.x, y: p.y, width: W, height: H, rx: milestone ? 22 : 8, fill: FILL[it.state] || "#fff", stroke: "#4a5564", "stroke-width": milestone ? 2.5 : 1 }));
      const ls = lines(it.name || it.id, 22);
      ls.forEach((l, i) => g.append(svg("text", { x: p.x + W / 2, y: p.y + (ls.length > 1 ? 15 : 20) + i * 13, "text-anchor": "middle", "font-size": 11.5, fill: "#1c2430" }, l)));
      const sub = `${STATE_TEXT[it.state] || it.state}${it.assignee ? " · " + it.assignee : ""}${it.required ? " · !" : ""}`;
      g.append(svg("text", { x: p.x + W / 2, y: p.y + H - 6, "text-anchor": "middle", "font-size": 10, fill: "#4a5564" }, sub));
      root.append(g);
    }
    if (goals.length) root.append(svg("text", { x: gx, y: PAD + 14, "font-size": 12, "font-weight": 700, fill: "#1c2430" }, "Goals"));
    for (const gl of goals) {
      const p = pos.get("goal:" + gl.id);
      const fill = gl.status === "open" ? GOAL_FILL[gl.timing] || "#fff" : GOAL_FILL[gl.status] || "#eee";
      const k = 12;
      const pts = [[p.x + k, p.y], [p.x + GW - k, p.y], [p.x + GW, p.y + GH / 2], [p.x + GW - k, p.y + GH], [p.x + k, p.y + GH], [p.x, p.y + GH / 2]];
      const g = svg("g", { "data-goal": gl.id, "data-timing": gl.timing });
      g.append(svg("polygon", { points: pts.map((q) => q.join(",")).join(" "), fill, stroke: "#4a5564" }));
      g.append(svg("text", { x: p.x + GW / 2, y: p.y + 18, "text-anchor": "middle", "font-size": 11.5, fill: "#1c2430" }, lines(gl.name || gl.id, 24)[0]));
      const st = gl.status === "open" ? (gl.deadline ? TIMING_TEXT[gl.timing] || gl.timing : "no deadline") : words(gl.status);
      g.append(svg("text", { x: p.x + GW / 2, y: p.y + 34, "text-anchor": "middle", "font-size": 10.5, "font-weight": 700, fill: "#4a5564" }, st));
      root.append(g);
    }
    if ((offers || []).length) root.append(svg("text", { x: ox, y: PAD + 14, "font-size": 12, "font-weight": 700, fill: "#1c2430" }, "Can be added now"));
    for (const o of offers || []) {
      const p = pos.get("offer:" + o.fragment);
      const g = svg("g", { "data-offer": o.fragment });
      g.append(svg("rect", { x: p.x, y: p.y, width: W, height: H, rx: 8, fill: "#fff", stroke: "#8893a2", "stroke-dasharray": "5 4" }));
      lines(o.name || o.fragment, 22).forEach((l, i) => g.append(svg("text", { x: p.x + W / 2, y: p.y + 18 + i * 13, "text-anchor": "middle", "font-size": 11.5, fill: "#4a5564" }, l)));
      root.append(g);
    }
    box.append(root);
  }

  // ---------------------------------------------------------------- live updates

  function setLive(on) {
    const l = $("live");
    l.dataset.live = on ? "on" : "off";
    l.textContent = on ? "Live" : "Reconnecting…";
  }

  /// Reads GET /v1/events as Server-Sent Events with fetch(), so that the token goes in the
  /// Authorization header (EventSource cannot send one) and never in a URL. Reconnects with
  /// Last-Event-ID after a pause, so nothing is missed.
  async function startStream() {
    if (state.stream) state.stream.abort();
    const ctl = new AbortController();
    state.stream = ctl;
    let delay = 500;
    while (!ctl.signal.aborted && state.token) {
      try {
        const headers = { Authorization: "Bearer " + state.token, Accept: "text/event-stream" };
        if (state.lastEventId) headers["Last-Event-ID"] = state.lastEventId;
        const res = await fetch(ROUTES.events(), { headers, signal: ctl.signal, cache: "no-store" });
        if (res.status === 401) { signOut("Your session ended: the token is no longer accepted."); return; }
        if (!res.ok || !res.body) throw new Error("event stream answered " + res.status);
        setLive(true);
        delay = 500;
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buf = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += value.replace(/\r\n?/g, "\n");
          let cut;
          while ((cut = buf.indexOf("\n\n")) >= 0) {
            const block = buf.slice(0, cut);
            buf = buf.slice(cut + 2);
            handleBlock(block);
          }
        }
      } catch (e) {
        if (ctl.signal.aborted) return;
      }
      if (ctl.signal.aborted) return;
      setLive(false);
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 10000);
      // Whatever happened while the stream was down is fetched again.
      scheduleRefresh(true);
    }
  }

  function handleBlock(block) {
    let id = null, data = "", kind = "message";
    for (const line of block.split("\n")) {
      if (line.startsWith(":")) continue;
      const i = line.indexOf(":");
      const field = i < 0 ? line : line.slice(0, i);
      let value = i < 0 ? "" : line.slice(i + 1);
      if (value.startsWith(" ")) value = value.slice(1);
      if (field === "id") id = value;
      else if (field === "data") data += (data ? "\n" : "") + value;
      else if (field === "event") kind = value;
    }
    if (id !== null) state.lastEventId = id;
    if (kind === "reset") {
      // The server could not replay what was missed: read everything again.
      scheduleRefresh(true);
      return;
    }
    if (!data) return;
    let ev = null;
    try { ev = JSON.parse(data); } catch (e) { return; }
    onEngineEvent(ev, kind);
  }

  function onEngineEvent(ev) {
    const caseId = ev && (ev.case || (ev.event && ev.event.case));
    const current = caseId && caseId === state.openCase;
    if (current && ev.seq !== undefined) state.freshSeqs.add(ev.seq);
    scheduleRefresh(current);
  }

  /// Many events arrive together (one command appends several): refresh once after them.
  function scheduleRefresh(withCase) {
    clearTimeout(state.refreshTimer);
    state.refreshTimer = setTimeout(refreshQueues, 150);
    if (withCase && state.openCase) {
      clearTimeout(state.caseRefreshTimer);
      state.caseRefreshTimer = setTimeout(refreshCase, 150);
    }
  }

  // Relative times ("in 3h") move on by themselves.
  setInterval(() => {
    for (const r of document.querySelectorAll("time[data-time] .rel")) r.textContent = relative(r.parentNode.dataset.time);
  }, 30000);

  // ---------------------------------------------------------------- start

  document.addEventListener("DOMContentLoaded", () => {
    $("sign-in-form").addEventListener("submit", (e) => { e.preventDefault(); signIn($("token").value); });
    $("sign-out").addEventListener("click", () => signOut());
    $("error-close").addEventListener("click", clearError);
    if (state.token) signIn(state.token); else showSignIn();
  });
})();
