// itstack's build of the Pulumi "random" resource provider plugin.
//
// The upstream glue module (github.com/pulumi/pulumi-random/provider/v4, release
// 4.21.1 = commit f2d8b029) is refused by the Go module proxy, so this file
// rebuilds the same plugin from the pieces the proxy does serve, at the versions
// pulumi-random 4.21.1 pins: the Terraform provider
// github.com/terraform-providers/terraform-provider-random@v1.3.2-0.20260513075824-f8d869dc98d9
// and github.com/pulumi/pulumi-terraform-bridge/v3@v3.135.0. Tokens follow the
// published package: random_<name> -> random:index/random<Name>:Random<Name>.
// The schema is generated at build time (scripts/toolchain runs this binary with
// ITSTACK_WRITE_SCHEMA=<file>, then rebuilds it with that file embedded).
package main

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"os"

	pfbridge "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfbridge"
	pftfgen "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfgen"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/terraform-providers/terraform-provider-random/internal/provider"
)

// Version is set with -ldflags "-X main.Version=4.21.1".
var Version = "0.0.0-dev"

//go:embed schema-embed.json
var schemaJSON []byte

func providerInfo() tfbridge.ProviderInfo {
	info := tfbridge.ProviderInfo{
		P:            pfbridge.ShimProvider(provider.New()),
		Name:         "random",
		Version:      Version,
		Description:  "A Pulumi package to safely use randomness in Pulumi programs.",
		License:      "Apache-2.0",
		MetadataInfo: tfbridge.NewProviderMetadata([]byte("{}")),
		Resources: map[string]*tfbridge.ResourceInfo{
			// random_bytes has no "id" attribute: use its base64 value as the resource id.
			"random_bytes": {ComputeID: idFromBase64},
		},
		EnableAccurateBridgePreview: true,
		EnableRawStateDelta:         true,
	}
	info.MustComputeTokens(tokens.SingleModule("random_", "index",
		func(module, name string) (string, error) {
			return tokens.MakeStandard("random")(module, "Random"+name)
		}))
	return info
}

func idFromBase64(_ context.Context, state resource.PropertyMap) (resource.ID, error) {
	v, ok := state["base64"]
	if !ok {
		return "", errors.New("random_bytes: state has no base64 property")
	}
	if v.IsSecret() {
		v = v.SecretValue().Element
	}
	if !v.IsString() {
		return "", errors.New("random_bytes: base64 property is not a string")
	}
	return resource.ID(v.StringValue()), nil
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
	pfbridge.Main(ctx, "random", providerInfo(), pfbridge.ProviderMetadata{PackageSchema: schemaJSON})
}
