package auth

import "strings"

// CheckSecret reports whether password matches secret, a stored htpasswd-style hash.
//
// Traefik v3.7.13 builds against a fork of this package (github.com/containous/go-http-auth at
// a 2026 pseudo-version) that the Go module proxy refuses; its middlewares call this one function
// that v0.4.0 lacks. It picks the comparison by the hash's prefix from v0.4.0's own table
// (bcrypt $2a$/$2b$/$2x$/$2y$, {SHA}, otherwise MD5-crypt), as CheckAuth does.
func CheckSecret(password, secret string) bool {
	compare := compareFuncs[0].compare
	for _, c := range compareFuncs[1:] {
		if strings.HasPrefix(secret, c.prefix) {
			compare = c.compare
			break
		}
	}
	return compare([]byte(secret), []byte(password)) == nil
}
