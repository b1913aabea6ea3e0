/* Orchestrate inbox: keyboard shortcuts, bulk selection and focus handling.
 *
 * Plain JavaScript, no build step, loaded with `defer` after htmx. Every page works without
 * it: rows are ordinary links, forms post normally, the bulk bar stays visible.
 *
 * Markup contract (see templates/base.html):
 *   [data-task-row][data-task-id]     a row in the task list, containing
 *     a[data-task-link]               the link that opens the task (may carry hx-* attributes)
 *     input[name=task_ids]            the bulk-selection checkbox
 *   [data-select-all]                 checkbox that toggles every task_ids checkbox
 *   .bulk-bar / [data-selected-count] bar shown while something is selected, and its count
 *   .inbox-detail                     the detail pane; its root element has data-task-id
 *   [data-shortcut=approve|reject]    buttons inside .inbox-detail for the a / r keys
 *   dialog#shortcuts                  help dialog toggled by ?
 */
(function () {
  "use strict";

  document.documentElement.classList.add("js");

  const ROW = "[data-task-row]";
  const CHECKBOX = 'input[type="checkbox"][name="task_ids"]';

  function rows() {
    return Array.from(document.querySelectorAll(ROW));
  }

  function detailPane() {
    return document.querySelector(".inbox-detail");
  }

  /* ---------- Selection of the open task ---------- */

  function markSelected(row) {
    rows().forEach(function (other) {
      const selected = other === row;
      other.classList.toggle("is-selected", selected);
      other.setAttribute("aria-selected", selected ? "true" : "false");
      const link = other.querySelector("a[data-task-link]");
      if (link) {
        if (selected) {
          link.setAttribute("aria-current", "true");
        } else {
          link.removeAttribute("aria-current");
        }
      }
    });
  }

  function rowForTaskId(taskId) {
    return rows().find(function (row) {
      return row.dataset.taskId === String(taskId);
    });
  }

  function detailTaskId() {
    const pane = detailPane();
    if (!pane) return null;
    const root = pane.matches("[data-task-id]") ? pane : pane.querySelector("[data-task-id]");
    return root ? root.dataset.taskId : null;
  }

  function syncSelectionWithDetail() {
    const taskId = detailTaskId();
    if (taskId === null) return;
    const row = rowForTaskId(taskId);
    if (row) markSelected(row);
  }

  function move(step) {
    const all = rows();
    if (!all.length) return;
    const current = all.findIndex(function (row) {
      return row.classList.contains("is-selected");
    });
    let next;
    if (current === -1) {
      next = step > 0 ? 0 : all.length - 1;
    } else {
      next = Math.min(Math.max(current + step, 0), all.length - 1);
      if (next === current) return;
    }
    const row = all[next];
    markSelected(row);
    row.scrollIntoView({ block: "nearest" });
    const link = row.querySelector("a[data-task-link]");
    if (link) link.click();
  }

  function focusDetailHeading() {
    const pane = detailPane();
    if (!pane) return;
    const heading = pane.querySelector("h1, h2");
    if (!heading) return;
    if (!heading.hasAttribute("tabindex")) heading.setAttribute("tabindex", "-1");
    heading.focus();
  }

  /* ---------- Keyboard shortcuts ---------- */

  function isTyping(target) {
    if (!(target instanceof Element)) return false;
    // Checkboxes and buttons take no text, so j/k still work after ticking a row.
    const field = target.closest("input, textarea, select, [contenteditable]:not([contenteditable=false])");
    if (!field) return false;
    return !(field instanceof HTMLInputElement && /^(checkbox|radio|button|submit|reset)$/.test(field.type));
  }

  function clickDetailButton(name) {
    const pane = detailPane();
    if (!pane) return false;
    const button = pane.querySelector('[data-shortcut="' + name + '"]');
    if (!button || button.disabled || button.getAttribute("aria-disabled") === "true") return false;
    button.click();
    return true;
  }

  function toggleHelp() {
    const dialog = document.getElementById("shortcuts");
    if (!dialog || typeof dialog.showModal !== "function") return;
    if (dialog.open) {
      dialog.close();
    } else {
      dialog.showModal();
    }
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.isComposing) return;
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (isTyping(event.target)) return;

    if (event.key === "?") {
      event.preventDefault();
      toggleHelp();
      return;
    }
    // Leave the page alone while a modal dialog (help, confirmation) is open.
    if (document.querySelector("dialog[open]")) return;
    if (event.shiftKey) return;

    switch (event.key) {
      case "j":
        if (!rows().length) return;
        event.preventDefault();
        move(1);
        break;
      case "k":
        if (!rows().length) return;
        event.preventDefault();
        move(-1);
        break;
      case "a":
        if (clickDetailButton("approve")) event.preventDefault();
        break;
      case "r": {
        const pane = detailPane();
        if (!pane || !pane.querySelector('[data-shortcut="reject"]')) return;
        event.preventDefault();
        if (window.confirm("Reject this task?")) clickDetailButton("reject");
        break;
      }
      default:
        break;
    }
  });

  document.addEventListener("click", function (event) {
    if (!(event.target instanceof Element)) return;
    const opener = event.target.closest("[data-shortcuts-open]");
    if (opener) {
      toggleHelp();
      return;
    }
    const link = event.target.closest("a[data-task-link]");
    if (link) {
      const row = link.closest(ROW);
      if (row) markSelected(row);
    }
  });

  /* ---------- Bulk selection ---------- */

  function scopeOf(element) {
    return (element && element.closest("form, .inbox-list")) || document;
  }

  function updateBulkState() {
    const boxes = Array.from(document.querySelectorAll(CHECKBOX));
    const checked = boxes.filter(function (box) {
      return box.checked;
    }).length;

    document.querySelectorAll("[data-selected-count]").forEach(function (el) {
      el.textContent = String(checked);
    });
    document.querySelectorAll(".bulk-bar").forEach(function (bar) {
      bar.hidden = checked === 0;
    });
    document.querySelectorAll("[data-select-all]").forEach(function (all) {
      const mine = Array.from(scopeOf(all).querySelectorAll(CHECKBOX));
      const on = mine.filter(function (box) {
        return box.checked;
      }).length;
      all.checked = mine.length > 0 && on === mine.length;
      all.indeterminate = on > 0 && on < mine.length;
    });
  }

  document.addEventListener("change", function (event) {
    const target = event.target;
    if (!(target instanceof HTMLInputElement)) return;
    if (target.matches("[data-select-all]")) {
      scopeOf(target).querySelectorAll(CHECKBOX).forEach(function (box) {
        if (!box.disabled) box.checked = target.checked;
      });
      updateBulkState();
    } else if (target.matches(CHECKBOX)) {
      updateBulkState();
    }
  });

  /* ---------- htmx integration ---------- */

  function touchesDetail(target) {
    if (!(target instanceof Element)) return false;
    return (
      target.matches(".inbox-detail") ||
      Boolean(target.closest(".inbox-detail")) ||
      Boolean(target.querySelector(".inbox-detail"))
    );
  }

  // Nav counts: update the links in place instead of replacing the live region, so screen
  // readers hear only counts that changed, and a login page (expired session) is never
  // swapped into the header.
  document.addEventListener("htmx:beforeSwap", function (event) {
    const target = event.detail.target;
    if (!target || target.id !== "nav-counts") return;
    event.detail.shouldSwap = false;
    if (!event.detail.xhr || event.detail.xhr.status !== 200) return;
    const template = document.createElement("template");
    template.innerHTML = event.detail.serverResponse || "";
    const fresh = template.content.getElementById("nav-counts");
    if (!fresh) return;
    fresh.querySelectorAll("a[data-nav-key]").forEach(function (link) {
      const old = target.querySelector('a[data-nav-key="' + link.dataset.navKey + '"]');
      if (old && old.innerHTML !== link.innerHTML) old.innerHTML = link.innerHTML;
    });
    // The first answer fills in what the page left out; later changes are read out.
    target.setAttribute("aria-live", "polite");
  });

  document.addEventListener("htmx:afterSettle", function (event) {
    updateBulkState();
    if (touchesDetail(event.detail.target)) {
      syncSelectionWithDetail();
      markSelection();
      focusDetailHeading();
    }
  });

  // On a narrow screen a selected task is shown first, with a way back to the list
  // (the server does the same for a page loaded with ?task=ID).
  function markSelection() {
    const inbox = document.querySelector(".inbox");
    const detail = document.querySelector(".inbox-detail");
    if (!inbox || !detail || !detail.querySelector("[data-task-id]")) return;
    inbox.classList.add("has-selection");
    if (!detail.querySelector(".pane-back")) {
      const back = document.createElement("p");
      back.className = "back-link pane-back";
      const link = document.createElement("a");
      const url = new URL(window.location.href);
      url.searchParams.delete("task");
      link.href = url.pathname + url.search;
      link.textContent = "\u2190 Back to the list";
      back.appendChild(link);
      detail.prepend(back);
    }
    if (window.matchMedia("(max-width: 899px)").matches) window.scrollTo(0, 0);
  }

  // Conflicts and validation errors come back as 409/422 with a partial explaining what
  // happened (e.g. "someone else claimed this task"); show it instead of doing nothing.
  if (window.htmx && window.htmx.config) {
    window.htmx.config.responseHandling = [
      { code: "204", swap: false },
      { code: "[23]..", swap: true },
      { code: "400|409|422", swap: true, error: false },
      { code: "[45]..", swap: false, error: true },
      { code: "...", swap: false },
    ];
  }

  /* ---------- Start ---------- */

  function init() {
    syncSelectionWithDetail();
    rows().forEach(function (row) {
      if (!row.hasAttribute("aria-selected")) {
        row.setAttribute("aria-selected", row.classList.contains("is-selected") ? "true" : "false");
      }
    });
    updateBulkState();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
