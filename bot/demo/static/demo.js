// The demo page's only script (no build step, nothing from another origin): the forms are
// posted in place, and the three panes are refreshed by a long poll of "live". Without it the
// forms still work, with a reload.
(() => {
  "use strict";
  const body = document.body;
  const liveUrl = body.dataset.live;
  let version = body.dataset.version;
  const applied = {}; // pane -> the force-reply the composer was pointed at, once

  const composer = (pane) => document.querySelector(`form.composer[data-pane="${pane}"]`);

  function setReply(pane, id, hint, focus) {
    const form = composer(pane);
    if (!form) return;
    form.elements.reply_to.value = id || "";
    const box = form.querySelector(".replying");
    box.hidden = !id;
    box.querySelector(".replying-to").textContent = hint || "";
    if (focus) form.elements.text.focus();
  }

  function follow(key, list) {
    const force = list.dataset.forceReply || "";
    if (force && applied[key] !== force) {
      // The bot asked a question as a force-reply: the app opens the reply to it.
      applied[key] = force;
      setReply(key, force, list.dataset.forceHint, false);
    } else if (!force && applied[key]) {
      const form = composer(key);
      if (form && form.elements.reply_to.value === applied[key]) setReply(key, "", "", false);
      applied[key] = "";
    }
  }

  function apply(panes) {
    for (const [key, html] of Object.entries(panes)) {
      const live = document.getElementById(`live-${key}`);
      if (!live) continue;
      const old = live.querySelector(".messages");
      const atBottom = !old || old.scrollHeight - old.scrollTop - old.clientHeight < 60;
      const top = old ? old.scrollTop : 0;
      live.innerHTML = html;
      const list = live.querySelector(".messages");
      list.scrollTop = atBottom ? list.scrollHeight : top;
      follow(key, list);
    }
  }

  async function poll() {
    for (;;) {
      try {
        const answer = await fetch(`${liveUrl}?after=${encodeURIComponent(version)}`, {
          cache: "no-store",
        });
        if (answer.ok) {
          const data = await answer.json();
          version = data.version;
          apply(data.panes);
          continue;
        }
      } catch (error) {
        // The demo stopped or the network blinked: try again shortly.
      }
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  }

  function paneOf(element) {
    const section = element.closest("section.pane");
    return section ? section.id : "";
  }

  function showError(pane, text) {
    const live = document.getElementById(`live-${pane}`);
    if (!live) return;
    const note = document.createElement("p");
    note.className = "toast error";
    note.setAttribute("role", "alert");
    note.textContent = text;
    live.appendChild(note);
  }

  document.addEventListener("submit", async (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || form.method.toLowerCase() !== "post") return;
    event.preventDefault();
    const data = new URLSearchParams(new FormData(form, event.submitter));
    const pane = paneOf(form);
    const isComposer = form.classList.contains("composer");
    if (isComposer && !form.elements.text.value.trim()) return;
    const buttons = form.querySelectorAll("button");
    buttons.forEach((b) => { b.disabled = true; });
    try {
      const answer = await fetch(form.action, {
        method: "POST",
        body: data,
        headers: { "X-Requested-With": "demo" },
      });
      if (!answer.ok) {
        let text = answer.statusText;
        try { text = (await answer.json()).error || text; } catch (error) { /* not JSON */ }
        showError(pane, text);
      } else if (isComposer) {
        form.elements.text.value = "";
        setReply(pane, "", "", false);
      }
    } catch (error) {
      showError(pane, String(error));
    } finally {
      buttons.forEach((b) => { b.disabled = false; });
    }
  });

  document.addEventListener("keydown", (event) => {
    const target = event.target;
    if (event.key !== "Enter" || event.shiftKey || event.isComposing) return;
    if (!(target instanceof HTMLTextAreaElement) || !target.form) return;
    event.preventDefault();
    target.form.requestSubmit();
  });

  document.addEventListener("click", (event) => {
    const target = event.target;
    if (!(target instanceof HTMLElement)) return;
    const pane = paneOf(target);
    if (target.matches("button.reply")) {
      const message = target.closest(".message");
      const text = message.querySelector(".text");
      const hint = text ? text.textContent.trim().slice(0, 40) : "…";
      setReply(pane, target.dataset.reply, hint, true);
    } else if (target.matches("button.cancel-reply")) {
      setReply(pane, "", "", true);
    }
  });

  for (const list of document.querySelectorAll(".messages")) {
    list.scrollTop = list.scrollHeight;
    follow(paneOf(list), list);
  }
  poll();
})();
