// spaprov console: every change goes through /api/v1 (same origin, JSON); the pages are
// rendered by the server. No framework, no build step.
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);

  // Relative to the origin, never to the page's URL: a page opened as http://user:pw@host/admin
  // has credentials in its URL, and fetch() refuses a URL that carries credentials.
  async function api(method, path, body) {
    const response = await fetch(new URL(path, window.location.origin), {
      method,
      credentials: "same-origin",
      headers: {"Content-Type": "application/json", "Accept": "application/json"},
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    let data = null;
    if (response.status !== 204) {
      try { data = await response.json(); } catch (_) { data = null; }
    }
    return {status: response.status, ok: response.ok, data};
  }
  const message = (data, status) => (data && data.error ? data.error.message : `the server answered ${status}`);

  // -- the confirm dialog ----------------------------------------------------------------------
  function confirmAction(text) {
    const dialog = $("confirm");
    $("confirm-text").textContent = text;
    return new Promise((resolve) => {
      dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), {once: true});
      dialog.returnValue = "";
      dialog.showModal();
      $("confirm-cancel").focus();
    });
  }

  // -- field errors ----------------------------------------------------------------------------
  function clearErrors(form) {
    for (const slot of form.querySelectorAll(".field-error")) { slot.hidden = true; slot.textContent = ""; }
    for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
    const box = form.querySelector(".errors");
    if (box) { box.hidden = true; box.replaceChildren(); }
  }

  // Each problem goes next to the field it names (lines[0].user_id -> the content field),
  // else to the form's list of problems.
  function showErrors(form, error) {
    const details = (error && error.details && error.details.length) ? error.details : [{field: "", reason: error ? error.message : "refused"}];
    const box = form.querySelector(".errors");
    let first = null;
    for (const detail of details) {
      const top = String(detail.field || "").split(/[.[]/)[0];
      const name = ["lines", "speed_dials", "line_keys"].includes(top) ? "content" : top;
      const slot = name ? form.querySelector(`#error-${CSS.escape(name)}`) : null;
      const text = detail.field ? `${detail.field}: ${detail.reason}` : detail.reason;
      if (slot) {
        slot.textContent = slot.textContent ? `${slot.textContent}; ${text}` : text;
        slot.hidden = false;
        const input = form.querySelector(`#field-${CSS.escape(name)}`);
        if (input) { input.setAttribute("aria-invalid", "true"); first = first || input; }
      } else if (box) {
        const line = document.createElement("p");
        line.textContent = detail.file ? `${detail.file}: ${text}` : text;
        box.append(line);
        box.hidden = false;
      }
    }
    if (first) first.focus();
  }

  // -- device, user, EM profile forms -------------------------------------------------------------
  function documentOf(form) {
    const document_ = {};
    for (const input of form.querySelectorAll("[data-field]")) {
      const name = input.dataset.field;
      const type = input.dataset.type || "text";
      if (type === "bool") document_[name] = input.type === "checkbox" ? input.checked : input.value === "true";
      else if (type === "list") document_[name] = input.value.split(",").map((s) => s.trim()).filter(Boolean);
      else if (type === "content") {
        let content;
        try { content = JSON.parse(input.value || "{}"); } catch (e) {
          throw {details: [{field: "content", reason: `not JSON: ${e.message}`}]};
        }
        if (content === null || typeof content !== "object" || Array.isArray(content)) {
          throw {details: [{field: "content", reason: "must be a JSON object"}]};
        }
        Object.assign(document_, content);
      } else if (name === "host_password" && input.value === "") continue;
      else document_[name] = input.value;
    }
    return document_;
  }

  const documentForm = $("document-form");
  if (documentForm) {
    const {kind, key, idField} = documentForm.dataset;
    documentForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearErrors(documentForm);
      let body;
      try { body = documentOf(documentForm); } catch (problem) { showErrors(documentForm, problem); return; }
      const path = key ? `/api/v1/${kind}/${encodeURIComponent(key)}` : `/api/v1/${kind}`;
      $("form-status").textContent = "Saving…";
      const {ok, status, data} = await api(key ? "PUT" : "POST", path, body);
      if (ok) {
        $("form-status").textContent = "Saved.";
        window.location.assign(`/admin/${kind}/${encodeURIComponent(data[idField])}?saved=1`);
        return;
      }
      $("form-status").textContent = `Not saved: ${message(data, status)}`;
      showErrors(documentForm, data && data.error);
    });
    const remove = $("delete");
    if (remove) {
      remove.addEventListener("click", async () => {
        if (!(await confirmAction(`Delete ${key}? This cannot be undone.`))) { remove.focus(); return; }
        const {ok, status, data} = await api("DELETE", `/api/v1/${kind}/${encodeURIComponent(key)}`);
        if (ok) { window.location.assign(`/admin/${kind}?deleted=${encodeURIComponent(key)}`); return; }
        $("form-status").textContent = `Not deleted: ${message(data, status)}`;
        showErrors(documentForm, data && data.error);
      });
    }
    if (new URLSearchParams(window.location.search).has("saved")) $("form-status").textContent = "Saved.";
  }

  const passwordForm = $("password-form");
  if (passwordForm) {
    passwordForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      clearErrors(passwordForm);
      const input = $("field-password");
      const {ok, status, data} = await api("PUT", passwordForm.dataset.path, {password: input.value});
      input.value = "";
      $("password-status").textContent = ok ? "Password set." : `Not set: ${message(data, status)}`;
      if (!ok) showErrors(passwordForm, data && data.error);
    });
  }

  const lock = $("lock");
  if (lock) {
    lock.addEventListener("click", async () => {
      const locking = lock.dataset.method === "PUT";
      if (locking && !(await confirmAction("Lock this user? Their phone sessions end now."))) { lock.focus(); return; }
      const {ok, status, data} = await api(lock.dataset.method, lock.dataset.path);
      if (ok) { window.location.reload(); return; }
      $("lock-state").textContent = `Refused: ${message(data, status)}`;
    });
  }

  // -- sessions --------------------------------------------------------------------------------
  for (const button of document.querySelectorAll("button.logout")) {
    button.addEventListener("click", async () => {
      const {user, device} = button.dataset;
      if (!(await confirmAction(`Log ${user} out of ${device}? The phone gets the logout profile at its next resync.`))) {
        button.focus();
        return;
      }
      const {ok, status, data} = await api("DELETE", `/api/v1/sessions/${encodeURIComponent(user)}`);
      if (ok) { button.closest("tr").remove(); $("sessions-status").textContent = `${user} logged out.`; return; }
      $("sessions-status").textContent = `Refused: ${message(data, status)}`;
    });
  }

  // -- the profile rule ----------------------------------------------------------------------------
  const ruleBox = $("rule");
  if (ruleBox) {
    let ticket = 0;
    let previewed = null;  // the text whose impact was last shown
    const save = $("save-rule");
    const extras = () => {
      const state = {};
      for (const name of ["EMS", "MUID", "MPWD", "PUID", "PPWD", "PDOM"]) state[name] = $(name).value;
      for (const line of $("extra").value.split("\n")) {
        const at = line.indexOf("=");
        if (at > 0) state[line.slice(0, at).trim()] = line.slice(at + 1);
      }
      return state;
    };
    const describe = (data) => {
      const lines = [];
      for (const step of data.trace) {
        lines.push(`alternative ${step.alternative + 1}: ${step.matched ? "condition holds" : "condition fails"}`);
        for (const c of step.comparisons) lines.push(`    "${c.left}" ${c.op} "${c.right}" -> ${c.error ? "error: " + c.error : c.result}`);
      }
      if (data.alternative === null) lines.push("no alternative applies: the rule is skipped");
      else lines.push(`chosen: alternative ${data.alternative + 1}`, `url: ${data.url ?? "(none)"}`);
      for (const [name, value] of Object.entries(data.options)) if (value !== null && value !== false) lines.push(`--${name} ${value}`);
      for (const [name, value] of data.assignments) lines.push(`set ${name} = "${value}"`);
      for (const error of data.errors) lines.push(`error: ${error}`);
      return lines.join("\n");
    };
    async function check() {
      const mine = ++ticket;
      const rule = ruleBox.value;
      const [evaluation, linted] = await Promise.all([
        api("POST", "/api/v1/rules/eval", {rule, state: extras(), trace: true}),
        api("POST", "/api/v1/rules/lint", {rule}),
      ]);
      if (mine !== ticket) return;  // a newer keystroke asked already
      const error = $("rule-error");
      if (evaluation.status !== 200) {
        const e = evaluation.data && evaluation.data.error;
        error.textContent = e && e.details.length && e.details[0].rendered ? e.details[0].rendered : message(evaluation.data, evaluation.status);
        error.hidden = false;
        ruleBox.setAttribute("aria-invalid", "true");
        $("rule-result").textContent = "";
      } else {
        error.hidden = true;
        ruleBox.removeAttribute("aria-invalid");
        $("rule-result").textContent = describe(evaluation.data);
      }
      const list = $("rule-lint");
      list.replaceChildren();
      if (linted.status === 200) {
        for (const w of linted.data.warnings) {
          const item = document.createElement("li");
          item.textContent = `${w.line}:${w.column}: ${w.code}: ${w.message}`;
          list.append(item);
        }
      }
      if (save) save.disabled = previewed !== ruleBox.value || evaluation.status !== 200;
    }
    let timer;
    const soon = () => { clearTimeout(timer); timer = setTimeout(check, 150); };
    for (const id of ["rule", "extra", "EMS", "MUID", "MPWD", "PUID", "PPWD", "PDOM"]) $(id).addEventListener("input", soon);
    check();

    const where = (o) => (o.kind === "none" ? "nothing (rule skipped)" : o.kind === "error" ? `error: ${o.error}` : `${o.kind}: ${o.url}`);
    const row = (cells) => {
      const tr = document.createElement("tr");
      for (const text of cells) { const td = document.createElement("td"); td.textContent = text; tr.append(td); }
      return tr;
    };
    $("preview").addEventListener("click", async () => {
      const rule = ruleBox.value;
      $("rule-status").textContent = "Previewing…";
      const {status, data} = await api("POST", "/api/v1/rules/impact", {rule, limit: 500});
      if (status !== 200) { $("rule-status").textContent = `No preview: ${message(data, status)}`; return; }
      $("rule-status").textContent = "";
      previewed = rule;
      $("impact").hidden = false;
      $("impact-summary").textContent = `${data.changed} of ${data.devices} phones change` +
        (data.changed > data.items.length ? ` (the first ${data.items.length} are listed)` : "") + ".";
      $("impact-transitions").tBodies[0].replaceChildren(
        ...data.transitions.map((t) => row([`${t.devices}${t.changed ? " (change)" : ""}`, where(t.old), where(t.new)])));
      $("impact-devices").tBodies[0].replaceChildren(...data.items.map((i) => row([i.mac, where(i.old), where(i.new)])));
      if (save) save.disabled = false;
    });
    if (save) {
      save.addEventListener("click", async () => {
        const rule = ruleBox.value;
        if (previewed !== rule) { save.disabled = true; return; }
        if (!(await confirmAction("Save this rule? Phones fetch it at their next resync."))) { save.focus(); return; }
        const {ok, status, data} = await api("PUT", "/api/v1/site/rule", {rule});
        if (ok) { $("rule-status").textContent = "Saved: the site serves the new rule."; return; }
        const details = data && data.error && data.error.details.length
          ? data.error.details.map((d) => `${d.file ? d.file + ": " : ""}${d.field ? d.field + ": " : ""}${d.reason}`).join("; ") : "";
        $("rule-status").textContent = `Not saved: ${message(data, status)}${details ? " — " + details : ""}`;
      });
    }
  }
})();
