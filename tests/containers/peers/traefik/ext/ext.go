// Package ext stands in for Traefik's nested dynamic-config extension module, which the Go
// module proxy does not serve. Upstream's open-source build ships it with no fields either.
package ext

// HTTP extends dynamic.HTTP (inlined; no fields in the open-source build).
type HTTP struct{}

// Router extends dynamic.Router (inlined; no fields in the open-source build).
type Router struct{}
