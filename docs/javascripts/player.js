// The player of cnnqa's animations (figures drawn by cnnqa.figures: one <g class="cnnqa-frame">
// per step). Play, pause, step back and forward with the buttons or, with the figure focused, the
// arrow keys and the space bar. Starts paused when the reader's system asks for reduced motion.
// Mounted on every page Material shows, after instant navigation too.
(function () {
  "use strict";
  const STEP_MS = 900;
  const reduced = window.matchMedia("(prefers-reduced-motion: reduce)");

  function mount(figure) {
    if (figure.dataset.cnnqaPlayer) return;
    figure.dataset.cnnqaPlayer = "on";
    const frames = [...figure.querySelectorAll(".cnnqa-frame")];
    const player = figure.querySelector(".cnnqa-player");
    const play = player.querySelector("[data-play]");
    const count = player.querySelector(".cnnqa-player__count");
    const caption = player.querySelector(".cnnqa-player__caption");
    let current = 0;
    let timer = null;

    function show(index) {
      current = (index + frames.length) % frames.length;
      frames.forEach((frame, k) => frame.classList.toggle("is-current", k === current));
      count.textContent = `${current + 1} / ${frames.length}`;
      caption.textContent = frames[current].dataset.caption;
    }
    function pause() {
      clearInterval(timer);
      timer = null;
      play.textContent = "Play";
      play.setAttribute("aria-pressed", "false");
    }
    function resume() {
      if (timer) return;
      timer = setInterval(() => (figure.isConnected ? show(current + 1) : pause()), STEP_MS);
      play.textContent = "Pause";
      play.setAttribute("aria-pressed", "true");
    }
    play.addEventListener("click", () => (timer ? pause() : resume()));
    for (const button of player.querySelectorAll("[data-step]")) {
      button.addEventListener("click", () => {
        pause();
        show(current + Number(button.dataset.step));
      });
    }
    figure.addEventListener("keydown", (event) => {
      if (event.target !== figure) return;
      const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
      if (step) {
        pause();
        show(current + step);
      } else if (event.key === " ") {
        timer ? pause() : resume();
      } else return;
      event.preventDefault();
    });
    player.hidden = false;
    show(0);
    if (!reduced.matches) resume();
  }

  document$.subscribe(() => document.querySelectorAll("figure.cnnqa-anim").forEach(mount));
})();
