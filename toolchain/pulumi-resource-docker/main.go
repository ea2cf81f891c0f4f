// itstack's build of the Pulumi "docker" resource provider plugin (bridged part).
//
// The upstream glue module (github.com/pulumi/pulumi-docker/provider/v5, release
// 5.1.0) and the Terraform provider commit it pins are refused by the Go module
// proxy, so this file rebuilds the bridged resources from what the proxy does
// serve: github.com/kreuzwerker/terraform-provider-docker@v0.0.0-20260916201441-96d331c98ff4
// (go.mod path github.com/terraform-providers/terraform-provider-docker) and
// github.com/pulumi/pulumi-terraform-bridge/v3@v3.135.0.
//
// Only the provider's SDKv2 half is bridged (containers, networks, volumes, images,
// services, ...). Not included: pulumi-docker's native docker:index/image:Image
// (Go code in the refused pulumi-docker module) and the plugin-framework half of
// the Terraform provider (docker_compose, docker_containers and
// docker_registry_image_tags data sources; none is in pulumi_docker 5.1.0).
//
// Tokens follow the published package: docker_<name> -> docker:index/<name>:<Name>,
// except docker_image -> docker:index/remoteImage:RemoteImage (and getRemoteImage),
// docker_config -> docker:index/serviceConfig:ServiceConfig, and the singular property
// names pulumi-docker keeps (Container.command, Container.networksAdvanced,
// Provider.registryAuth).
// The schema is generated at build time (scripts/toolchain runs this binary with
// ITSTACK_WRITE_SCHEMA=<file>, then rebuilds it with that file embedded).
package main

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"os"

	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge/tokens"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfgen"
	shimv2 "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfshim/sdk-v2"
	"github.com/pulumi/pulumi/sdk/v3/go/common/diag"
	"github.com/pulumi/pulumi/sdk/v3/go/common/diag/colors"
	"github.com/terraform-providers/terraform-provider-docker/internal/provider"
)

// Version is set with -ldflags "-X main.Version=5.1.0".
var Version = "0.0.0-dev"

//go:embed schema-embed.json
var schemaJSON []byte

func providerInfo() tfbridge.ProviderInfo {
	info := tfbridge.ProviderInfo{
		P:            shimv2.NewProvider(provider.New(Version)()),
		Name:         "docker",
		Version:      Version,
		Description:  "A Pulumi package for interacting with Docker in Pulumi programs",
		License:      "Apache-2.0",
		GitHubOrg:    "kreuzwerker",
		MetadataInfo: tfbridge.NewProviderMetadata([]byte("{}")),
		Config: map[string]*tfbridge.SchemaInfo{
			// pulumi-docker keeps the singular names of these lists.
			"registry_auth": {Name: "registryAuth"},
		},
		Resources: map[string]*tfbridge.ResourceInfo{
			"docker_image":  {Tok: "docker:index/remoteImage:RemoteImage"},
			"docker_config": {Tok: "docker:index/serviceConfig:ServiceConfig"},
			"docker_container": {Fields: map[string]*tfbridge.SchemaInfo{
				"command":           {Name: "command"},
				"networks_advanced": {Name: "networksAdvanced"},
			}},
		},
		DataSources: map[string]*tfbridge.DataSourceInfo{
			"docker_image": {Tok: "docker:index/getRemoteImage:getRemoteImage"},
		},
	}
	info.MustComputeTokens(tokens.SingleModule("docker_", "index", tokens.MakeStandard("docker")))
	return info
}

func main() {
	if out := os.Getenv("ITSTACK_WRITE_SCHEMA"); out != "" {
		sink := diag.DefaultSink(os.Stderr, os.Stderr, diag.FormatOptions{Color: colors.Never})
		res, err := tfgen.GenerateSchemaWithOptions(tfgen.GenerateSchemaOptions{
			ProviderInfo: providerInfo(), DiagnosticsSink: sink, XInMemoryDocs: true,
		})
		var b []byte
		if err == nil {
			b, err = json.Marshal(res.PackageSpec)
		}
		if err == nil {
			err = os.WriteFile(out, b, 0o644)
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
	tfbridge.Main("docker", Version, providerInfo(), schemaJSON)
}
