// Accessibility helpers that need the browser (no network, no inline script: the CSP allows only hashed scripts).
window.dash_clientside = Object.assign({}, window.dash_clientside, {
    arogya: {
        // A folded panel (the phone's menu or filter bar) and its button's aria-expanded, toggled together.
        toggle: function (nClicks, isOpen) {
            var open = !isOpen;
            return [open, open ? "true" : "false"];
        }
    }
});

(function () {
    "use strict";
    // <html lang> follows the page's language (the frame's outer element carries it), so screen readers pick the
    // right voice after in-app navigation too; the server sets it on the first load.
    function syncLang() {
        var page = document.querySelector(".page[lang]");
        if (page && document.documentElement.lang !== page.lang) {
            document.documentElement.lang = page.lang;
        }
    }
    function start() {
        syncLang();
        new MutationObserver(syncLang).observe(document.body, {childList: true, subtree: true});
    }
    if (document.readyState === "loading") {
        document.addEventListener("DOMContentLoaded", start);
    } else {
        start();
    }
    // The skip link moves keyboard focus into the content (a hash change alone only scrolls in some browsers).
    document.addEventListener("click", function (event) {
        var link = event.target.closest && event.target.closest("a.skip-link");
        var main = document.getElementById("main");
        if (link && main) {
            event.preventDefault();
            main.focus();
            main.scrollIntoView();
        }
    });
})();
