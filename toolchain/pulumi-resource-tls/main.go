// itstack's build of the Pulumi "tls" resource provider plugin.
//
// The upstream glue module (github.com/pulumi/pulumi-tls/provider/v5, release
// 5.5.1) and the Terraform provider commit it pins are refused by the Go module
// proxy, so this file rebuilds the same plugin from what the proxy does serve:
// github.com/hashicorp/terraform-provider-tls@v1.2.1-0.20260819085117-d044ca7c6f52
// (the only post-pin commit the proxy serves) and
// github.com/pulumi/pulumi-terraform-bridge/v3@v3.135.0 (plugin-framework bridge).
// Tokens follow the published package: tls_<name> -> tls:index/<name>:<Name>.
// The schema is generated at build time (scripts/toolchain runs this binary with
// ITSTACK_WRITE_SCHEMA=<file>, then rebuilds it with that file embedded).
package main

import (
	"context"
	_ "embed"
	"fmt"
	"os"

	"github.com/hashicorp/terraform-provider-tls/internal/provider"
	pfbridge "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfbridge"
	pftfgen "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfgen"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge/tokens"
)

// Version is set with -ldflags "-X main.Version=5.5.1".
var Version = "0.0.0-dev"

//go:embed schema-embed.json
var schemaJSON []byte

func providerInfo() tfbridge.ProviderInfo {
	info := tfbridge.ProviderInfo{
		P:                           pfbridge.ShimProvider(provider.New()),
		Name:                        "tls",
		Version:                     Version,
		Description:                 "A Pulumi package to create TLS resources in Pulumi programs.",
		License:                     "Apache-2.0",
		GitHubOrg:                   "hashicorp",
		MetadataInfo:                tfbridge.NewProviderMetadata([]byte("{}")),
		EnableAccurateBridgePreview: true,
	}
	info.MustComputeTokens(tokens.SingleModule("tls_", "index", tokens.MakeStandard("tls")))
	return info
}

func main() {
	ctx := context.Background()
	if out := os.Getenv("ITSTACK_WRITE_SCHEMA"); out != "" {
		res, err := pftfgen.GenerateSchema(ctx, pftfgen.GenerateSchemaOptions{
			ProviderInfo: providerInfo(), XInMemoryDocs: true,
		})
		if err == nil {
			err = os.WriteFile(out, res.ProviderMetadata.PackageSchema, 0o644)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "writing schema:", err)
			os.Exit(1)
		}
		return
	}
	if len(schemaJSON) < 100 {
		fmt.Fprintln(os.Stderr, "this binary was built without its schema; rebuild it with scripts/toolchain")
		os.Exit(1)
	}
	pfbridge.Main(ctx, "tls", providerInfo(), pfbridge.ProviderMetadata{PackageSchema: schemaJSON})
}
