package inbox

// The page is plain constants so the CSP can pin the exact script and style by
// hash: even if text ever slipped into the DOM as markup, an injected script
// would not run. All data arrives through fetch and is inserted with
// textContent, never innerHTML.

const pageHead = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Inbox · talkjs-bridge</title>
`

const pageBody = `<span id="status" class="status">connecting…</span></header>
<main>
<p id="loading" class="note">Loading conversations…</p>
<div id="empty" class="empty" hidden>
<p class="big">No conversations yet — send a webhook</p>
<p>Post an event to <code>/webhooks/{route}</code> (or enqueue a command) and it appears here within a second.</p>
</div>
<section id="failures" class="failures" hidden>
<h2>Refused and rejected deliveries <span id="failure-count"></span></h2>
<ol id="failure-list"></ol>
<p id="more-failures" class="note" hidden></p>
</section>
<div id="conversations" class="grid"></div>
<p id="more" class="note" hidden>Older conversations are not shown.</p>
</main>
`

const pageStyle = `
:root{--bg:#f2f3f7;--card:#fff;--ink:#1d2230;--mute:#6b7285;--line:#e3e6ee;--bubble:#eef1fb;--sys:#fff6df;--sysink:#7a5a00;--accent:#3b5bdb}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif}
.top{position:sticky;top:0;z-index:1;display:flex;align-items:baseline;gap:16px;padding:12px 20px;background:#1d2230;color:#fff}
.top h1{margin:0;font-size:17px;font-weight:600}
.top h1 span{font-weight:400;opacity:.7}
.top .app{font-size:12px;opacity:.8}
.top code{font:12px ui-monospace,SFMono-Regular,Menlo,monospace}
.status{margin-left:auto;font-size:12px;opacity:.85}
.status.live::before{content:"";display:inline-block;width:8px;height:8px;margin-right:6px;border-radius:50%;background:#40c057}
.status.error{color:#ffa8a8}
main{padding:16px 20px}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(420px,1fr));gap:16px;align-items:start}
.conv{background:var(--card);border:1px solid var(--line);border-radius:10px;box-shadow:0 1px 2px rgba(20,25,40,.06);overflow:hidden}
.conv>header{padding:10px 14px;border-bottom:1px solid var(--line)}
.conv h2{margin:0;font-size:15px;font-weight:600;overflow-wrap:anywhere}
.conv .cid{color:var(--mute);font:11px ui-monospace,SFMono-Regular,Menlo,monospace;overflow-wrap:anywhere}
.people{display:flex;flex-wrap:wrap;gap:4px;margin:6px 0 0;padding:0;list-style:none}
.people li{padding:1px 8px;border-radius:10px;background:#f1f3f5;color:#495057;font-size:12px}
.custom{margin:6px 0 0;color:var(--mute);font-size:11px}
.custom span{margin-right:10px}
.custom b{font-weight:600}
.msgs{margin:0;padding:10px 14px;list-style:none;max-height:440px;overflow-y:auto;display:flex;flex-direction:column;gap:8px}
.msg.user{align-self:flex-start;max-width:85%}
.bubble{background:var(--bubble);border-radius:12px 12px 12px 3px;padding:6px 10px}
.sender{font-size:12px;font-weight:600}
.text{white-space:pre-wrap;overflow-wrap:anywhere}
.msg time{display:block;color:var(--mute);font-size:11px}
.msg.user time{text-align:right}
.msg.system{align-self:center;max-width:92%;text-align:center;background:var(--sys);color:var(--sysink);border:1px dashed #f0d48a;border-radius:8px;padding:4px 12px;font-size:13px}
.msg.system .tag{font-size:10px;text-transform:uppercase;letter-spacing:.06em;opacity:.7;margin-right:6px}
.msg.system time{display:inline-block;margin-left:6px;color:#a08a4a;white-space:nowrap}
.msg .edited{font-style:italic}
.none{color:var(--mute);font-style:italic;text-align:center}
.text a{color:var(--accent)}
.text code{padding:0 3px;border-radius:4px;background:rgba(20,25,40,.07);font:12.5px ui-monospace,SFMono-Regular,Menlo,monospace}
.text ul{margin:2px 0;padding-left:20px;text-align:left}
.failures{margin:0 0 16px;background:var(--card);border:1px solid #f1c0c0;border-radius:10px;overflow:hidden}
.failures h2{margin:0;padding:8px 14px;font-size:14px;font-weight:600;background:#fff0f0;color:#a61e1e;border-bottom:1px solid #f1c0c0}
.failures h2 span{font-weight:400;opacity:.8}
.failures ol{margin:0;padding:6px 14px;list-style:none;max-height:220px;overflow-y:auto}
.failure{display:flex;flex-wrap:wrap;gap:2px 10px;align-items:baseline;padding:4px 0;border-bottom:1px solid var(--line);font-size:13px}
.failure:last-child{border-bottom:0}
.failure .kind{padding:0 7px;border-radius:9px;font-size:11px;font-weight:600;text-transform:uppercase;letter-spacing:.04em}
.failure.refused .kind{background:#ffe3e3;color:#a61e1e}
.failure.rejected .kind{background:#fff3bf;color:#7a5a00}
.failure .what{font:12px ui-monospace,SFMono-Regular,Menlo,monospace}
.failure .error{font-weight:600}
.failure .reason{flex-basis:100%;color:var(--mute);overflow-wrap:anywhere}
.failure time{color:var(--mute);font-size:11px;margin-left:auto}
.empty{max-width:560px;margin:60px auto;padding:28px;text-align:center;background:var(--card);border:1px dashed #c5cad6;border-radius:12px;color:var(--mute)}
.empty .big{font-size:18px;color:var(--ink);margin-top:0}
.note{color:var(--mute);text-align:center}
`

const pageScript = `
"use strict";
(() => {
  const pollMs = Math.max(200, parseInt(document.body.dataset.pollMs, 10) || 1000);
  // Relative to the page itself, so the inbox works under any prefix.
  const api = location.pathname.replace(/\/+$/, "") + "/api/conversations";
  const list = document.getElementById("conversations");
  const empty = document.getElementById("empty");
  const loading = document.getElementById("loading");
  const more = document.getElementById("more");
  const status = document.getElementById("status");
  const failures = document.getElementById("failures");
  const failureList = document.getElementById("failure-list");
  const failureCount = document.getElementById("failure-count");
  const moreFailures = document.getElementById("more-failures");
  let etag = "";

  // el creates an element; text goes in as textContent, never as markup.
  const el = (tag, cls, text) => {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  };
  const when = (ms) => ms ? new Date(ms).toLocaleString([], {month: "short", day: "numeric", hour: "2-digit", minute: "2-digit"}) : "";
  const hue = (s) => { let h = 0; for (const ch of String(s)) h = (h * 31 + ch.codePointAt(0)) % 360; return h; };

  // rich builds TalkJS markup from the server's parsed nodes: only these
  // elements, text only as text nodes, links only to absolute http(s) or
  // mailto URLs. Without nodes the plain text is shown.
  const tags = new Set(["strong", "em", "s", "code", "a", "br", "ul", "li"]);
  function rich(parent, nodes, text) {
    if (!Array.isArray(nodes)) { parent.textContent = text || ""; return parent; }
    for (const n of nodes) {
      if (!n.tag || !tags.has(n.tag)) { parent.append(document.createTextNode(n.text || "")); continue; }
      if (n.tag === "a" && !/^(https?|mailto):/i.test(n.href || "")) { rich(parent, n.kids || []); continue; }
      const e = document.createElement(n.tag);
      if (n.tag === "a") {
        e.href = n.href;
        e.target = "_blank";
        e.rel = "noopener noreferrer nofollow";
      }
      parent.append(rich(e, n.kids || []));
    }
    return parent;
  }

  function failure(f) {
    const li = el("li", "failure " + (f.kind === "rejected" ? "rejected" : "refused"));
    li.append(el("span", "kind", f.kind + (f.status ? " " + f.status : "")));
    if (f.route) li.append(el("span", "what", "/webhooks/" + f.route));
    if (f.id) li.append(el("span", "what", "message " + f.id));
    li.append(el("span", "error", f.error));
    const stamp = el("time", null, when(f.at));
    if (f.at) stamp.dateTime = new Date(f.at).toISOString();
    li.append(stamp);
    if (f.reason) li.append(el("span", "reason", f.reason));
    return li;
  }

  function message(m) {
    const stamp = el("time", null, when(m.createdAt));
    if (m.createdAt) stamp.dateTime = new Date(m.createdAt).toISOString();
    if (m.editedAt) stamp.append(el("span", "edited", " · edited"));
    if (m.type === "SystemMessage") {
      const li = el("li", "msg system");
      li.append(el("span", "tag", "system"), rich(el("span", "text"), m.rich, m.text), stamp);
      return li;
    }
    const li = el("li", "msg user");
    li.dataset.sender = m.senderId || "";
    const b = el("div", "bubble");
    const who = el("div", "sender", m.senderName || m.senderId || "unknown sender");
    who.title = m.senderId || "";
    who.style.color = "hsl(" + hue(m.senderId || "") + " 55% 36%)";
    b.append(who, rich(el("div", "text"), m.rich, m.text));
    if (m.attachment) b.append(el("div", "text", "📎 " + m.attachment));
    b.append(stamp);
    li.append(b);
    return li;
  }

  function card(c) {
    const sec = el("section", "conv");
    sec.dataset.id = c.id;
    const head = el("header");
    head.append(c.subject ? rich(el("h2"), c.subjectRich, c.subject) : el("h2", null, c.id));
    if (c.subject) head.append(el("div", "cid", c.id));
    const people = el("ul", "people");
    for (const p of c.participants || []) {
      const li = el("li", null, p.name || p.id);
      li.title = p.id;
      people.append(li);
    }
    if (people.childElementCount) head.append(people);
    const keys = Object.keys(c.custom || {}).sort();
    if (keys.length) {
      const cu = el("div", "custom");
      for (const k of keys) {
        const s = el("span");
        s.append(el("b", null, k), document.createTextNode(" " + c.custom[k]));
        cu.append(s);
      }
      head.append(cu);
    }
    const msgs = el("ol", "msgs");
    const ms = c.messages || [];
    if (!ms.length) msgs.append(el("li", "none", "No messages yet"));
    for (const m of ms) msgs.append(message(m));
    sec.append(head, msgs);
    return sec;
  }

  function render(data) {
    // Keep each conversation's scroll position unless it was at the bottom,
    // in which case follow the newest message.
    const keep = new Map();
    for (const box of list.querySelectorAll(".conv")) {
      const m = box.querySelector(".msgs");
      if (m && m.scrollHeight - m.scrollTop - m.clientHeight > 4) keep.set(box.dataset.id, m.scrollTop);
    }
    const convs = data.conversations || [];
    list.replaceChildren(...convs.map(card));
    for (const box of list.querySelectorAll(".conv")) {
      const m = box.querySelector(".msgs");
      m.scrollTop = keep.has(box.dataset.id) ? keep.get(box.dataset.id) : m.scrollHeight;
    }
    loading.hidden = true;
    empty.hidden = convs.length > 0;
    more.hidden = !data.moreConversations;
    const fs = data.failures || [];
    failureList.replaceChildren(...fs.map(failure));
    failureCount.textContent = "· " + fs.length + (data.moreFailures ? " latest" : "");
    moreFailures.textContent = data.moreFailures ? data.moreFailures + " older ones are no longer kept." : "";
    moreFailures.hidden = !data.moreFailures;
    failures.hidden = fs.length === 0;
  }

  function setStatus(text, cls) {
    status.textContent = text;
    status.className = "status " + cls;
  }

  async function poll() {
    try {
      const res = await fetch(api, {cache: "no-store", headers: etag ? {"If-None-Match": etag} : {}});
      if (res.status === 200) {
        const data = await res.json();
        etag = res.headers.get("ETag") || "";
        render(data);
      } else if (res.status !== 304) {
        let msg = "HTTP " + res.status;
        try { msg = (await res.json()).error || msg; } catch (e) {}
        throw new Error(msg);
      }
      setStatus("live · updated " + new Date().toLocaleTimeString(), "live");
    } catch (e) {
      setStatus("cannot refresh: " + e.message + " (retrying)", "error");
    }
    setTimeout(poll, document.hidden ? pollMs * 5 : pollMs);
  }
  poll();
})();
`
