// When the session ends (signed out in another tab, expired, account disabled), Dash's requests get 401: reload the
// page, and the server sends the browser to the sign-in page and back here afterwards.
(function () {
    "use strict";
    var original = window.fetch;
    if (!original) {
        return;
    }
    var reloading = false;
    window.fetch = function () {
        return original.apply(this, arguments).then(function (response) {
            if (response.status === 401 && !reloading && /\/_dash-/.test(response.url || "")) {
                reloading = true;
                window.location.reload();
            }
            return response;
        });
    };
})();
