// Autocomplete for every <form data-autocomplete> on the page: suggestions as you type
// (debounced, stale answers dropped), arrows to move, Enter opens the product, Escape closes.
(function () {
  "use strict";
  var DEBOUNCE_MS = 120;

  function setup(form) {
    var input = form.querySelector("[data-autocomplete-input]");
    var list = form.querySelector("[role=listbox]");
    var endpoint = form.getAttribute("data-autocomplete");
    var items = [];
    var active = -1;
    var timer = null;
    var latest = 0;
    var controller = null;

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function highlight(index) {
      var nodes = list.children;
      for (var i = 0; i < nodes.length; i++) {
        nodes[i].classList.toggle("active", i === index);
        nodes[i].setAttribute("aria-selected", i === index ? "true" : "false");
      }
      active = index;
      if (index >= 0) input.setAttribute("aria-activedescendant", nodes[index].id);
    }

    function render(suggestions, message) {
      items = suggestions;
      list.textContent = "";
      suggestions.forEach(function (s, i) {
        var li = document.createElement("li");
        li.id = "autocomplete-option-" + i;
        li.setAttribute("role", "option");
        li.dataset.url = s.url;
        if (s.thumbnail) {
          var img = document.createElement("img");
          img.src = s.thumbnail; img.alt = ""; img.width = 32; img.height = 32;
          li.appendChild(img);
        } else {
          var blank = document.createElement("span");
          blank.className = "nothumb";
          li.appendChild(blank);
        }
        var title = document.createElement("span");
        title.textContent = s.title;  // text, never HTML: titles are user input
        li.appendChild(title);
        li.addEventListener("mousedown", function (e) { e.preventDefault(); open(i); });
        list.appendChild(li);
      });
      if (!suggestions.length && message) {
        var note = document.createElement("li");
        note.className = "note";
        note.textContent = message;
        list.appendChild(note);
      }
      active = -1;
      var show = suggestions.length > 0 || !!message;
      list.hidden = !show;
      input.setAttribute("aria-expanded", show ? "true" : "false");
    }

    function open(index) {
      if (items[index]) window.location.assign(items[index].url);
    }

    function fetchSuggestions() {
      var q = input.value.trim();
      var ticket = ++latest;
      if (!q) { render([], ""); return; }
      if (controller) controller.abort();
      controller = typeof AbortController === "function" ? new AbortController() : null;
      fetch(endpoint + "?q=" + encodeURIComponent(q), {
        headers: { "Accept": "application/json" },
        signal: controller ? controller.signal : undefined
      }).then(function (r) {
        return r.json().then(function (body) { return { ok: r.ok, body: body }; });
      }).then(function (res) {
        if (ticket !== latest) return;  // an older answer arriving late
        if (!res.ok) { render([], res.body.error || "Suggestions are unavailable."); return; }
        render(res.body.suggestions, res.body.suggestions.length ? "" : "No suggestions");
      }).catch(function (err) {
        if (err && err.name === "AbortError") return;
        if (ticket === latest) render([], "Suggestions are unavailable.");
      });
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(fetchSuggestions, DEBOUNCE_MS);
    });
    input.addEventListener("keydown", function (e) {
      var count = items.length;
      if (e.key === "ArrowDown" && count) {
        e.preventDefault();
        if (list.hidden) { list.hidden = false; }
        highlight((active + 1) % count);
      } else if (e.key === "ArrowUp" && count) {
        e.preventDefault();
        highlight(active <= 0 ? count - 1 : active - 1);
      } else if (e.key === "Enter" && active >= 0 && !list.hidden) {
        e.preventDefault();  // open the product rather than submitting the search
        open(active);
      } else if (e.key === "Escape") {
        close();
      }
    });
    input.addEventListener("blur", function () { setTimeout(close, 100); });
    input.addEventListener("focus", function () {
      if (input.value.trim() && list.children.length) {
        list.hidden = false;
        input.setAttribute("aria-expanded", "true");
      }
    });
  }

  document.querySelectorAll("form[data-autocomplete]").forEach(setup);
})();
