// Live: insert each result the server pushes (rows are rendered, and escaped, server-side).
(function () {
  "use strict";
  const devices = document.getElementById("devices");
  const dot = document.getElementById("live-state");
  const keep = Number(devices.dataset.perDevice || 20);
  const source = new EventSource("/live/events?after=" + Number(devices.dataset.after || 0));
  source.onopen = function () { dot.classList.add("on"); };
  source.onerror = function () { dot.classList.remove("on"); };
  source.onmessage = function (event) {
    const message = JSON.parse(event.data);
    let section = document.getElementById(message.section);
    if (!section) {
      devices.insertAdjacentHTML("beforeend", message.section_html);
      section = document.getElementById(message.section);
      const empty = document.getElementById("empty");
      if (empty) { empty.hidden = true; }
    }
    const body = section.querySelector("tbody");
    body.insertAdjacentHTML("afterbegin", message.row_html);
    body.rows[0].classList.add("fresh");
    while (body.rows.length > keep) { body.deleteRow(-1); }
  };
})();
