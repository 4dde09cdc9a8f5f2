// The kiosk screen's only script. It stores nothing (no storage, no cookies) and puts nothing in URLs.
"use strict";
(function () {
  const body = document.body;

  // Redraw when the kiosk's state changes (background work finished, inactivity reset).
  const version = body.dataset.version;
  let polling = true;
  async function poll() {
    if (!polling) return;
    try {
      const answer = await fetch("/state", { cache: "no-store", credentials: "omit" });
      const state = await answer.json();
      if (String(state.v) !== version) {
        polling = false;
        window.location.replace("/");
        return;
      }
    } catch (e) {
      // the kiosk process is restarting: keep trying
    }
    window.setTimeout(poll, 400);
  }
  window.setTimeout(poll, 400);

  // One press, one post: a second tap while the page is changing does nothing.
  for (const form of document.querySelectorAll("form")) {
    form.addEventListener("submit", function () {
      polling = false;
      for (const button of form.querySelectorAll("button")) button.disabled = true;
    });
  }

  // The PIN pad: digits go into the form's hidden field; the screen shows only dots.
  const pinValue = document.getElementById("pin-value");
  if (pinValue) {
    const dots = document.querySelectorAll("#pin-dots span");
    const ok = document.getElementById("pin-ok");
    const show = function () {
      dots.forEach(function (dot, i) { dot.classList.toggle("on", i < pinValue.value.length); });
      body.dataset.pinLength = String(pinValue.value.length);
      ok.disabled = pinValue.value.length !== 4;
    };
    for (const key of document.querySelectorAll("#pin-pad [data-digit]")) {
      key.addEventListener("click", function () {
        if (pinValue.value.length < 4) pinValue.value += key.dataset.digit;
        show();
      });
    }
    document.getElementById("pin-clear").addEventListener("click", function () {
      pinValue.value = "";
      show();
    });
    show();
  }

  // The printing bar fills over the expected printing time.
  const bar = document.getElementById("print-progress");
  if (bar) {
    const seconds = Math.max(0.1, parseFloat(bar.dataset.seconds || "1"));
    const started = performance.now();
    const step = function (now) {
      const part = Math.min(1, (now - started) / (seconds * 1000));
      bar.style.width = (part * 100).toFixed(1) + "%";
      if (part < 1) window.requestAnimationFrame(step);
    };
    window.requestAnimationFrame(step);
  }

  // The forgotten-certificate reminder: a chime every second until Stop is pressed (the page then changes).
  if (document.getElementById("reminder")) {
    let audio = null;
    const beep = function () {
      try {
        audio = audio || new (window.AudioContext || window.webkitAudioContext)();
        const osc = audio.createOscillator();
        const gain = audio.createGain();
        osc.frequency.value = 880;
        gain.gain.value = 0.2;
        osc.connect(gain).connect(audio.destination);
        osc.start();
        osc.stop(audio.currentTime + 0.25);
      } catch (e) {
        // no audio device: the flashing reminder still shows
      }
      body.dataset.beeps = String(parseInt(body.dataset.beeps || "0", 10) + 1);
    };
    beep();
    window.setInterval(beep, 1000);
  }
})();
