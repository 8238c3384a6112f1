/*
 * Workflow Platform dashboard: the little behaviour the server-rendered pages need.
 * - run forms: POST the inputs to the API, show field errors next to the fields (422), show the run,
 *   then refresh the workflow's chart and history table in place (no reload);
 * - run pages and unfinished runs: poll GET /api/runs/{id} until the run is finished; Re-run (a finished
 *   run: masked inputs and tool profiles from the form, then the new run's page) and Cancel (an open one);
 * - durable runs (the run page): the step timeline and the waiting panel swapped for fresh ones as the run
 *   moves on; Approve / Reject with a comment, Resume from the failed step, Skip the wait (local only);
 * - schedules: pause / resume; webhook URLs: copy; times: local-time tooltips (and local time itself for
 *   <time data-local-time>).
 * Every URL starts with the base path read from <body data-base> ("/prod" behind API Gateway),
 * never with a bare "/". No inline script anywhere: the Content-Security-Policy forbids it.
 */
(() => {
  "use strict";

  const BASE = document.body.dataset.base || "";
  const FINAL = new Set(["success", "error", "timed_out", "interrupted", "skipped", "cancelled"]);

  // ----- helpers ---------------------------------------------------------------------------------
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  function goToLogin() {
    const here = location.pathname.slice(BASE.length) + location.search;
    location.assign(BASE + "/login?next=" + encodeURIComponent(here || "/"));
  }

  async function api(path, options) {
    const init = Object.assign({ credentials: "same-origin" }, options || {});
    init.headers = Object.assign({ Accept: "application/json" }, (options && options.headers) || {});
    const response = await fetch(BASE + path, init);
    if (response.status === 401) {
      goToLogin();
      throw new Error("login required");
    }
    let body = null;
    try {
      body = await response.json();
    } catch (_) {
      body = null;
    }
    return { status: response.status, ok: response.ok, body };
  }

  function badge(status) {
    return el("span", { class: "badge st-" + status, "data-status": status }, String(status).replace(/_/g, " "));
  }

  function duration(ms) {
    if (ms === null || ms === undefined) return "—";
    if (ms < 1000) return Math.trunc(ms) + " ms";
    const seconds = ms / 1000;
    if (seconds < 60) return seconds.toFixed(1) + " s";
    const minutes = Math.floor(seconds / 60);
    if (minutes < 60) return minutes + " min " + Math.floor(seconds % 60) + " s";
    return Math.floor(minutes / 60) + " h " + (minutes % 60) + " min";
  }

  function utc(iso) {
    if (!iso) return "—";
    const date = new Date(iso);
    if (Number.isNaN(date.getTime())) return iso;
    return date.toISOString().replace("T", " ").slice(0, 19) + " UTC";
  }

  function timeNode(iso) {
    if (!iso) return document.createTextNode("—");
    const node = el("time", { datetime: iso }, utc(iso));
    node.title = new Date(iso).toLocaleString();
    return node;
  }

  function pretty(value) {
    return JSON.stringify(value, null, 2);
  }

  function localTimes(root) {
    for (const node of (root || document).querySelectorAll("time[datetime]")) {
      const date = new Date(node.getAttribute("datetime"));
      if (Number.isNaN(date.getTime())) continue;
      if (node.hasAttribute("data-local-time")) {
        if (!node.dataset.utc) node.dataset.utc = node.textContent;
        node.textContent = date.toLocaleString();
        node.title = node.dataset.utc;
      } else {
        node.title = "your time: " + date.toLocaleString();
      }
    }
  }

  // ----- polling a run ---------------------------------------------------------------------------
  async function pollRun(runId, onUpdate) {
    let wait = 700;
    const deadline = Date.now() + 16 * 60 * 1000; // longer than the longest allowed timeout (900 s)
    while (Date.now() < deadline) {
      await sleep(wait);
      wait = Math.min(wait * 1.4, 5000);
      let answer;
      try {
        answer = await api("/api/runs/" + encodeURIComponent(runId));
      } catch (error) {
        continue; // a network blip: try again
      }
      if (!answer.ok || !answer.body) continue;
      onUpdate(answer.body);
      if (FINAL.has(answer.body.status)) return answer.body;
    }
    return null;
  }

  // ----- run forms -------------------------------------------------------------------------------
  function collect(form) {
    const data = {};
    for (const input of form.querySelectorAll("[data-type]")) {
      const type = input.dataset.type;
      if (type === "boolean") {
        data[input.name] = input.checked;
        continue;
      }
      const value = input.value;
      if (value.trim() === "") continue; // the server applies defaults and reports missing required fields
      if ((type === "integer" || type === "number") && value.trim() !== "" && Number.isFinite(Number(value))) {
        data[input.name] = Number(value);
      } else {
        data[input.name] = value;
      }
    }
    return data;
  }

  function clearErrors(form) {
    for (const node of form.querySelectorAll("[data-error-for]")) {
      node.textContent = "";
      node.hidden = true;
    }
    for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
    const general = form.querySelector("[data-form-error]");
    general.textContent = "";
    general.hidden = true;
  }

  function formError(form, message) {
    const general = form.querySelector("[data-form-error]");
    general.textContent = message;
    general.hidden = false;
  }

  function fieldErrors(form, errors, summary) {
    let first = null;
    const unmatched = [];
    for (const error of errors) {
      const target = form.querySelector('[data-error-for="' + CSS.escape(String(error.field)) + '"]');
      if (!target) {
        unmatched.push(error.field + ": " + error.message);
        continue;
      }
      target.textContent = error.message;
      target.hidden = false;
      const input = form.querySelector('[name="' + CSS.escape(String(error.field)) + '"]');
      if (input) {
        input.setAttribute("aria-invalid", "true");
        first = first || input;
      }
    }
    if (unmatched.length) formError(form, unmatched.join("; "));
    else if (!first && summary) formError(form, summary);
    if (first) first.focus();
  }

  function showRun(container, run) {
    const parts = [
      el("p", { class: "run-status" }, badge(run.status), " ", run.message || "",
        run.duration_ms !== null && run.duration_ms !== undefined ? el("span", { class: "muted small" }, " · " + duration(run.duration_ms)) : null),
    ];
    if (run.error && run.error !== run.message) parts.push(el("pre", { class: "error-text" }, run.error));
    if (run.output !== null && run.output !== undefined) parts.push(el("pre", { class: "json", "data-output": "" }, pretty(run.output)));
    if (!FINAL.has(run.status)) parts.push(el("p", { class: "live small" }, "Still running: this updates by itself."));
    parts.push(el("p", { class: "small" }, el("a", { href: BASE + "/dashboard/runs/" + encodeURIComponent(run.run_id) }, "Open the run page →")));
    container.replaceChildren(...parts);
    container.hidden = false;
    container.dataset.status = run.status;
    for (const cell of document.querySelectorAll('[data-last-run="' + CSS.escape(run.workflow) + '"]')) {
      cell.replaceChildren(el("a", { href: BASE + "/dashboard/runs/" + encodeURIComponent(run.run_id) }, badge(run.status)),
        " ", el("span", { class: "small" }, "just now"));
    }
  }

  // ----- the chart and the history after a run ---------------------------------------------------
  // The server draws both (the chart is SVG built in charts.py): fetch the workflow's page once and swap
  // in its fresh [data-runs-chart] and [data-runs-history] parts. One refresh at a time per workflow,
  // so an older answer never replaces a newer one.
  const refreshes = new Map();

  function refreshRuns(workflow) {
    const previous = refreshes.get(workflow) || Promise.resolve();
    const next = previous.then(() => swapRuns(workflow)).catch(() => undefined);
    refreshes.set(workflow, next);
    return next;
  }

  async function swapRuns(workflow) {
    const name = CSS.escape(workflow);
    const selector = '[data-runs-chart="' + name + '"], [data-runs-history="' + name + '"]';
    if (!document.querySelector(selector)) return;
    const response = await fetch(BASE + "/dashboard/workflows/" + encodeURIComponent(workflow),
      { credentials: "same-origin", headers: { Accept: "text/html" } });
    if (!response.ok) return;
    const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
    for (const attribute of ["data-runs-chart", "data-runs-history"]) {
      const replacement = fresh.querySelector("[" + attribute + '="' + name + '"]');
      if (!replacement) continue;
      for (const node of document.querySelectorAll("[" + attribute + '="' + name + '"]')) {
        const copy = document.importNode(replacement, true);
        node.replaceWith(copy);
        localTimes(copy);
      }
    }
  }

  async function submitRun(form) {
    clearErrors(form);
    const button = form.querySelector("button[type=submit]");
    const result = form.querySelector("[data-run-result]");
    const label = button.textContent;
    button.disabled = true;
    button.textContent = "Running…";
    result.hidden = false;
    result.dataset.status = "sending";
    result.replaceChildren(el("p", { class: "muted" }, "Running…"));
    try {
      const answer = await api("/api/workflows/execute/" + encodeURIComponent(form.dataset.workflow), {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(collect(form)),
      });
      const body = answer.body || {};
      if (answer.status === 422 && Array.isArray(body.detail)) {
        result.hidden = true;
        fieldErrors(form, body.detail, body.error);
        return;
      }
      if (!body.run_id) {
        result.hidden = true;
        formError(form, body.error || "The platform answered HTTP " + answer.status + ".");
        return;
      }
      showRun(result, body);
      refreshRuns(body.workflow || form.dataset.workflow);
      if (!FINAL.has(body.status)) {
        pollRun(body.run_id, (run) => showRun(result, run)).then(() => refreshRuns(body.workflow || form.dataset.workflow));
      }
    } catch (error) {
      result.hidden = true;
      formError(form, "Could not reach the platform: " + error.message);
    } finally {
      button.disabled = false;
      button.textContent = label;
    }
  }

  // ----- the run page ----------------------------------------------------------------------------
  function setField(page, name, value, render) {
    const node = page.querySelector('[data-run-field="' + name + '"]');
    if (!node) return;
    const empty = value === null || value === undefined || value === "" || (Array.isArray(value) && !value.length);
    if (render) node.replaceChildren(render(value));
    else node.textContent = empty ? "" : String(value);
    if (node.tagName === "PRE") node.hidden = empty;
    const placeholder = page.querySelector('[data-run-empty="' + name + '"]');
    if (placeholder) placeholder.hidden = !empty;
    const section = page.querySelector('[data-run-section="' + name + '"]');
    if (section) section.hidden = empty;
  }

  function updateRunPage(page, run) {
    page.dataset.runStatus = run.status;
    setField(page, "status", run.status, badge);
    setField(page, "started_at", run.started_at, timeNode);
    setField(page, "finished_at", run.finished_at, timeNode);
    setField(page, "duration_ms", run.duration_ms, (ms) => document.createTextNode(duration(ms)));
    setField(page, "message", run.message || "—");
    setField(page, "error", run.error);
    setField(page, "traceback", run.traceback);
    setField(page, "output", run.output === null || run.output === undefined ? null : pretty(run.output));
    setField(page, "logs", (run.logs || []).join("\n"));
    refreshDurable(page, run);
    if (FINAL.has(run.status)) {
      page.dataset.final = "true";
      const live = page.querySelector("[data-run-live]");
      if (live) live.hidden = true;
      const cancel = page.querySelector("button[data-cancel-run]");
      if (cancel) cancel.hidden = true;
      for (const node of page.querySelectorAll("[data-run-empty]")) node.textContent = node.textContent.replace(" yet.", ".");
    }
  }

  // ----- durable runs (the run page) --------------------------------------------------------------
  // The server renders the timeline and the waiting panel ([data-durable], the run's actions): when the
  // run's status or a step's status or attempts change, fetch the page once and swap those parts in.
  function durableSignature(run) {
    return [run.status, ...(run.steps || []).map((s) => s.name + ":" + s.status + ":" + s.attempts)].join("|");
  }

  let durableSwap = Promise.resolve();

  function refreshDurable(page, run) {
    const current = page.querySelector("[data-durable]");
    if (!current || current.dataset.durableSignature === durableSignature(run)) return durableSwap;
    durableSwap = durableSwap.then(() => swapDurable(page, run)).catch(() => undefined);
    return durableSwap;
  }

  async function swapDurable(page, run) {
    const current = page.querySelector("[data-durable]");
    if (!current || current.dataset.durableSignature === durableSignature(run)) return;
    const response = await fetch(BASE + "/dashboard/runs/" + encodeURIComponent(page.dataset.runId),
      { credentials: "same-origin", headers: { Accept: "text/html" } });
    if (!response.ok) return;
    const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
    for (const selector of ["[data-durable]", ".run-actions"]) {
      const replacement = fresh.querySelector(".run-page " + selector);
      const node = page.querySelector(selector);
      if (!replacement || !node) continue;
      // Someone is typing in it (a comment, a password to resume with): leave it; a later poll swaps it.
      const active = document.activeElement;
      if (active && active.matches("input, textarea, select") && node.contains(active)) continue;
      const copy = document.importNode(replacement, true);
      // An answer the API refused (say, already answered elsewhere): its message outlives the swap.
      if (selector === "[data-durable]" && page.dataset.durableNotice) {
        copy.prepend(el("p", { class: "form-error", role: "alert", "data-durable-notice": "" }, page.dataset.durableNotice));
      }
      node.replaceWith(copy);
      localTimes(copy);
    }
  }

  // After an action (an answer, a resume, a skipped wait): watch the run closely until it moves on,
  // then reload the page so it shows the run going on.
  async function reloadWhenMoved(runId, before, seconds) {
    const deadline = Date.now() + (seconds || 20) * 1000;
    while (Date.now() < deadline) {
      await sleep(400);
      let answer;
      try {
        answer = await api("/api/runs/" + encodeURIComponent(runId));
      } catch (error) {
        continue;
      }
      if (answer.ok && answer.body && durableSignature(answer.body) !== before) break;
    }
    location.reload();
  }

  function currentSignature(page) {
    const node = page.querySelector("[data-durable]");
    return node ? node.dataset.durableSignature : "";
  }

  async function answerApproval(form, approve) {
    clearErrors(form);
    const page = form.closest("[data-run-id]");
    const note = form.querySelector("[data-approval-note]");
    const buttons = form.querySelectorAll("button");
    for (const button of buttons) button.disabled = true;
    const comment = form.querySelector("[name=comment]").value.trim();
    try {
      const answer = await api("/api/runs/" + encodeURIComponent(form.dataset.approvalForm) + "/approvals/" +
        encodeURIComponent(form.dataset.approval), {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ approve, comment: comment || null }),
      });
      if (answer.ok) {
        note.textContent = (approve ? "Approved" : "Rejected") + ": the run goes on…";
        note.hidden = false;
        await reloadWhenMoved(page.dataset.runId, currentSignature(page));
        return;
      }
      const message = (answer.body && answer.body.error) || "The platform answered HTTP " + answer.status + ".";
      formError(form, message);
      page.dataset.durableNotice = message;
    } catch (error) {
      formError(form, "Could not reach the platform: " + error.message);
    }
    for (const button of buttons) button.disabled = false;
  }

  async function submitResume(form) {
    clearErrors(form);
    const page = form.closest("[data-run-id]");
    const button = form.querySelector("button[type=submit]");
    const inputs = {};
    for (const input of form.querySelectorAll("[data-resume-input]")) if (input.value !== "") inputs[input.name] = input.value;
    const before = currentSignature(page);
    button.disabled = true;
    try {
      const answer = await api("/api/runs/" + encodeURIComponent(form.dataset.resumeForm) + "/resume", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ inputs }),
      });
      const body = answer.body || {};
      if (answer.ok && body.run_id) {
        if (FINAL.has(body.status) && durableSignature(body) !== before) location.reload();
        else await reloadWhenMoved(body.run_id, before);
        return;
      }
      if (answer.status === 422 && Array.isArray(body.detail)) fieldErrors(form, body.detail, body.error);
      else formError(form, body.error || "The platform answered HTTP " + answer.status + ".");
    } catch (error) {
      formError(form, "Could not reach the platform: " + error.message);
    }
    button.disabled = false;
  }

  async function skipWait(button) {
    const page = button.closest("[data-run-id]");
    const problem = page.querySelector("[data-skip-error]");
    const before = currentSignature(page);
    button.disabled = true;
    if (problem) problem.hidden = true;
    try {
      const answer = await api("/api/runs/" + encodeURIComponent(button.dataset.skipWait) + "/skip-wait", { method: "POST" });
      if (answer.ok) {
        await reloadWhenMoved(button.dataset.skipWait, before);
        return;
      }
      if (problem) {
        problem.textContent = (answer.body && answer.body.error) || "The platform answered HTTP " + answer.status + ".";
        problem.hidden = false;
      }
    } catch (error) {
      if (problem) {
        problem.textContent = "Could not reach the platform: " + error.message;
        problem.hidden = false;
      }
    }
    button.disabled = false;
  }

  // ----- re-run and cancel (the run page) -------------------------------------------------------
  async function submitRerun(form) {
    clearErrors(form);
    const button = form.querySelector("button[type=submit]");
    const inputs = {};
    for (const input of form.querySelectorAll("[data-rerun-input]")) if (input.value !== "") inputs[input.name] = input.value;
    const profiles = {};
    for (const input of form.querySelectorAll("[data-rerun-profile]")) if (input.value.trim() !== "") profiles[input.name] = input.value.trim();
    button.disabled = true;
    try {
      const answer = await api("/api/runs/" + encodeURIComponent(form.dataset.rerunForm) + "/rerun", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ inputs, profiles }),
      });
      const body = answer.body || {};
      if (body.run_id) {
        location.assign(BASE + "/dashboard/runs/" + encodeURIComponent(body.run_id));
        return;
      }
      if (answer.status === 422 && Array.isArray(body.detail)) fieldErrors(form, body.detail, body.error);
      else formError(form, body.error || "The platform answered HTTP " + answer.status + ".");
    } catch (error) {
      formError(form, "Could not reach the platform: " + error.message);
    } finally {
      button.disabled = false;
    }
  }

  async function cancelRun(button) {
    const page = button.closest("[data-run-id]");
    const note = page.querySelector("[data-cancel-note]");
    button.disabled = true;
    try {
      const answer = await api("/api/runs/" + encodeURIComponent(button.dataset.cancelRun) + "/cancel", { method: "POST" });
      if (answer.ok && answer.body) {
        updateRunPage(page, answer.body);
        button.hidden = true;
        if (note) note.textContent = "Cancelled.";
        return;
      }
      if (note) note.textContent = (answer.body && answer.body.error) || "The platform answered HTTP " + answer.status + ".";
      button.disabled = false;
    } catch (error) {
      if (note) note.textContent = "Could not reach the platform: " + error.message;
      button.disabled = false;
    }
  }

  // ----- re-run a filtered set (the runs page) ------------------------------------------------------
  async function bulkRerun(button) {
    const note = document.querySelector("[data-bulk-note]");
    const path = "/api/runs/rerun?limit=20&" + button.dataset.bulkRerun;
    button.disabled = true;
    try {
      const preview = await api(path, { method: "POST" });
      if (!preview.ok || !preview.body) {
        note.textContent = (preview.body && preview.body.error) || "The platform answered HTTP " + preview.status + ".";
        return;
      }
      const count = preview.body.count;
      if (!count) { note.textContent = "No run to re-run."; return; }
      const more = preview.body.more ? " (the newest " + count + " of more)" : "";
      if (!window.confirm("Re-run " + count + " run(s)" + more + " with their stored inputs?")) {
        note.textContent = "Nothing was re-run.";
        return;
      }
      const done = await api(path + "&confirm=true", { method: "POST" });
      note.textContent = (done.body && (done.body.message || done.body.error)) || "The platform answered HTTP " + done.status + ".";
    } catch (error) {
      note.textContent = "Could not reach the platform: " + error.message;
    } finally {
      button.disabled = false;
    }
  }

  // ----- schedules -------------------------------------------------------------------------------
  function showJob(row, enabled, active) {
    row.dataset.enabled = enabled ? "true" : "false";
    const state = row.querySelector("[data-job-state]");
    if (active === false) state.replaceChildren(el("span", { class: "badge st-inactive" }, "inactive"));
    else state.replaceChildren(enabled ? el("span", { class: "badge st-active" }, "active") : el("span", { class: "badge st-paused" }, "paused"));
    const button = row.querySelector("button[data-schedule-action]");
    button.dataset.scheduleAction = enabled ? "pause" : "resume";
    button.textContent = enabled ? "Pause" : "Resume";
  }

  async function toggleSchedule(button) {
    const row = button.closest("[data-job]");
    const workflow = button.dataset.workflow;
    const action = button.dataset.scheduleAction;
    const problem = document.querySelector("[data-schedules-error]");
    problem.hidden = true;
    button.disabled = true;
    try {
      const answer = await api("/api/scheduler/jobs/" + encodeURIComponent(workflow) + "/" + action, { method: "POST" });
      if (!answer.ok) {
        problem.textContent = "Could not " + action + " " + workflow + ": " + ((answer.body && answer.body.error) || "HTTP " + answer.status);
        problem.hidden = false;
        return;
      }
      let job = answer.body && typeof answer.body.enabled === "boolean" ? answer.body : null;
      if (!job) {
        const jobs = await api("/api/scheduler/jobs");
        job = (jobs.body || []).find((j) => j.workflow === workflow) || { enabled: action === "resume" };
      }
      showJob(row, job.enabled, job.active);
    } catch (error) {
      problem.textContent = "Could not reach the platform: " + error.message;
      problem.hidden = false;
    } finally {
      button.disabled = false;
    }
  }

  // ----- copy ------------------------------------------------------------------------------------
  async function copy(button) {
    const text = button.dataset.copy;
    let done = false;
    try {
      await navigator.clipboard.writeText(text);
      done = true;
    } catch (_) {
      const area = el("textarea", { readonly: true, class: "visually-hidden" }, text);
      document.body.append(area);
      area.select();
      try {
        done = document.execCommand("copy");
      } catch (__) {
        done = false;
      }
      area.remove();
    }
    const label = button.textContent;
    button.textContent = done ? "Copied" : "Select and copy";
    setTimeout(() => (button.textContent = label), 1500);
  }

  // The home page reads no run: its cards' last runs and charts come in one request once it is shown
  // (GET /dashboard/recent), so a cold start answers the page itself without DynamoDB.
  async function loadRecent() {
    if (!document.querySelector("[data-runs-pending]")) return;
    let fresh = null;
    try {
      const response = await fetch(BASE + "/dashboard/recent",
        { credentials: "same-origin", headers: { Accept: "text/html" } });
      if (response.status === 401) { goToLogin(); return; }
      if (response.ok) fresh = new DOMParser().parseFromString(await response.text(), "text/html");
    } catch (error) {
      fresh = null;
    }
    for (const attribute of ["data-last-run", "data-runs-chart"]) {
      for (const node of document.querySelectorAll("[" + attribute + "]")) {
        const pending = node.querySelector("[data-runs-pending]");
        if (!pending) continue;
        const name = CSS.escape(node.getAttribute(attribute));
        const replacement = fresh && fresh.querySelector("[" + attribute + '="' + name + '"]');
        if (replacement) {
          const copy = document.importNode(replacement, true);
          node.replaceWith(copy);
          localTimes(copy);
        } else {
          pending.textContent = "Run history unavailable right now.";
        }
      }
    }
  }

  // ----- wiring ----------------------------------------------------------------------------------
  document.addEventListener("submit", (event) => {
    const approval = event.target.closest("form[data-approval-form]");
    if (approval) {
      event.preventDefault();
      const submitter = event.submitter && event.submitter.closest("button[data-approve]");
      if (submitter) answerApproval(approval, submitter.dataset.approve === "true");  // never a default answer
      return;
    }
    const resume = event.target.closest("form[data-resume-form]");
    if (resume) {
      event.preventDefault();
      submitResume(resume);
      return;
    }
    const rerun = event.target.closest("form[data-rerun-form]");
    if (rerun) {
      event.preventDefault();
      submitRerun(rerun);
      return;
    }
    const form = event.target.closest("form[data-run-form]");
    if (!form) return;
    event.preventDefault();
    submitRun(form);
  });

  document.addEventListener("click", (event) => {
    const copyButton = event.target.closest("button[data-copy]");
    if (copyButton) copy(copyButton);
    const scheduleButton = event.target.closest("button[data-schedule-action]");
    if (scheduleButton) toggleSchedule(scheduleButton);
    const cancelButton = event.target.closest("button[data-cancel-run]");
    if (cancelButton) cancelRun(cancelButton);
    const bulkButton = event.target.closest("button[data-bulk-rerun]");
    if (bulkButton) bulkRerun(bulkButton);
    const skipButton = event.target.closest("button[data-skip-wait]");
    if (skipButton) skipWait(skipButton);
  });

  // The login page after a link from another site: the Strict cookie was withheld; ask again from here.
  const retry = document.querySelector("[data-same-site-retry]");
  if (retry) location.replace(retry.dataset.sameSiteRetry);

  localTimes(document);
  const runPage = document.querySelector(".run-page[data-run-id]");  // not a row of the runs page
  if (runPage && runPage.dataset.final !== "true") {
    pollRun(runPage.dataset.runId, (run) => updateRunPage(runPage, run)).then(() => localTimes(runPage));
  }
  loadRecent().finally(() => { document.documentElement.dataset.ready = "true"; });
})();
