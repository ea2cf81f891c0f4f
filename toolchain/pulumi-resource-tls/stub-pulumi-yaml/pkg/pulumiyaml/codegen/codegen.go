// Package codegen is an itstack stub for the one pulumi-yaml symbol that
// pulumi-terraform-bridge links in: YAML example generation for provider docs,
// which a runtime provider plugin never uses. (The bridge requires an untagged
// pulumi-yaml pseudo-version that the Go module proxy refuses, and the nearest
// served release, v1.37.0, does not compile against pulumi pkg v3.253.0.)
package codegen

import (
	"errors"

	"github.com/hashicorp/hcl/v2"
	"github.com/pulumi/pulumi/pkg/v3/codegen/pcl"
)

// GenerateProgram always fails: YAML program generation is not built into itstack's plugins.
func GenerateProgram(program *pcl.Program) (map[string][]byte, hcl.Diagnostics, error) {
	return nil, nil, errors.New("YAML code generation is not available in itstack's provider build")
}
