package auth

import "net/http"

// RequireAuthStale answers like RequireAuth, with `stale=true` added to the challenge (RFC 7616:
// the nonce was stale; the client retries with the new one without asking the user again).
// Traefik's digest-auth middleware calls it; v0.4.0 lacks it (see check_secret.go). itstack's
// configuration uses basic auth only.
func (a *DigestAuth) RequireAuthStale(w http.ResponseWriter, r *http.Request) {
	a.RequireAuth(staleChallenge{ResponseWriter: w, header: a.Headers.V().Authenticate}, r)
}

// staleChallenge marks the challenge header stale just before the status line goes out.
type staleChallenge struct {
	http.ResponseWriter
	header string
}

func (s staleChallenge) WriteHeader(code int) {
	if v := s.Header().Get(s.header); v != "" {
		s.Header().Set(s.header, v+", stale=true")
	}
	s.ResponseWriter.WriteHeader(code)
}
