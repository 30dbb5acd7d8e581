// Typeset the math that pymdownx.arithmatex leaves in `.arithmatex` elements, with the KaTeX
// copy served by this site. Material's document$ fires on the first load and after every
// instant navigation, so pages reached without a full reload are typeset too. Arithmatex
// (generic mode) writes every formula with \( \) or \[ \], so those are the only delimiters.
document$.subscribe(({ body }) => {
  renderMathInElement(body, {
    delimiters: [
      { left: "\\(", right: "\\)", display: false },
      { left: "\\[", right: "\\]", display: true },
    ],
    ignoredClasses: ["highlight", "mermaid"],
    throwOnError: false,
  });
});
