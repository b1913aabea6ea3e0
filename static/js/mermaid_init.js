// Draws every <pre class="mermaid"> of the admin's diagram box (templates/admin/orchestrate/
// diagram.html). A file of its own, not inline, so the Content-Security-Policy can forbid
// inline scripts. "strict" keeps Mermaid from running script or HTML out of diagram text.
/* global mermaid */
mermaid.initialize({ startOnLoad: true, securityLevel: "strict" });
