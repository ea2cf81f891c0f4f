/* IT-Stack OpenID Connect login button for taiga-front 6 (written for this stack).
 * Authorization code flow: a random `state` is kept in sessionStorage and checked on return;
 * the code goes to taiga-back (/api/v1/auth, type "itstack-oidc"), which holds the client secret. */
(function () {
    "use strict";
    var STATE_KEY = "itstack-oidc-state";
    var NEXT_KEY = "itstack-oidc-next";

    function randomState() {
        var bytes = new Uint8Array(24);
        window.crypto.getRandomValues(bytes);
        return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
    }

    function directive($params, $location, $config, $events, $confirm, $auth, $navUrls, $loader) {
        function link($scope, $el) {
            var authUrl = $config.get("itstackOidcAuthUrl", null);
            var clientId = $config.get("itstackOidcClientId", null);
            var redirectUri = $config.get("itstackOidcRedirectUri", null);
            $scope.itstackOidcName = $config.get("itstackOidcName", "IT-Stack SSO");

            function clearQuery() {
                ["code", "state", "session_state", "iss", "error", "error_description"].forEach(function (k) {
                    $location.search(k, null);
                });
            }

            function onSuccess() {
                var next = window.sessionStorage.getItem(NEXT_KEY);
                window.sessionStorage.removeItem(NEXT_KEY);
                clearQuery();
                $events.setupConnection();
                $location.path(next && next !== $navUrls.resolve("login") ? next : $navUrls.resolve("home"));
            }

            function onError(response) {
                clearQuery();
                $loader.pageLoaded();
                var msg = response && response.data && response.data._error_message;
                $confirm.notify("light-error", msg || "The IT-Stack sign-in did not succeed.");
            }

            if ($params.code) {
                var expected = window.sessionStorage.getItem(STATE_KEY);
                window.sessionStorage.removeItem(STATE_KEY);
                if (!expected || expected !== $params.state) {
                    onError({data: {_error_message: "The sign-in answer does not match this browser session."}});
                } else {
                    $loader.start(true);
                    $auth.login({code: $params.code}, "itstack-oidc").then(onSuccess, onError);
                }
            }

            $el.on("click", ".button-auth", function (event) {
                event.preventDefault();
                var state = randomState();
                window.sessionStorage.setItem(STATE_KEY, state);
                if ($params.next) {
                    window.sessionStorage.setItem(NEXT_KEY, $params.next);
                }
                window.location.href = authUrl +
                    "?response_type=code" +
                    "&client_id=" + encodeURIComponent(clientId) +
                    "&redirect_uri=" + encodeURIComponent(redirectUri) +
                    "&scope=" + encodeURIComponent("openid profile email") +
                    "&state=" + encodeURIComponent(state);
            });

            $scope.$on("$destroy", function () { $el.off(); });
        }

        return {restrict: "EA", link: link};
    }

    angular.module("itstackContrib.oidcAuth", []).directive("tgItstackOidcLogin", [
        "$routeParams", "$tgLocation", "$tgConfig", "$tgEvents", "$tgConfirm", "$tgAuth", "$tgNavUrls", "tgLoader",
        directive
    ]);
})();
