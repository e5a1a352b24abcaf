// Draws the ```mermaid blocks of this page (publishbot). Mermaid always runs
// with securityLevel "strict": labels are text (no HTML), no click handlers
// or links that run script; a diagram's own %%{init}%% cannot change that.
(function () {
  var dark = window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches;
  mermaid.initialize({ startOnLoad: false, securityLevel: "strict", theme: dark ? "dark" : "default" });
  mermaid.run({ querySelector: "pre.mermaid" });
})();
